"""Brokers behind small, similar interfaces: ``course_lib.messaging.rabbitmq`` and ``course_lib.messaging.kafka``.

Nothing is imported here, so importing one broker's package never pulls in the other's client library.
"""
