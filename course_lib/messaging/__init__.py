"""Brokers behind mirrored interfaces: ``course_lib.messaging.rabbitmq`` and ``course_lib.messaging.kafka``.

Both packages have the same module names for the same jobs — ``connection``, ``publisher`` | ``producer``,
``consumer``, ``worker``, ``wire`` | ``records``, ``admin``, ``errors`` — and share what this package holds:
``workers`` (one ``WorkerStats``, one lifecycle), ``errors`` (``DestinationNotFound``, ``WorkerStuck``, …) and
``headers`` (the causation and schema-version header names).

Nothing is imported here, so importing one broker's package never pulls in the other's client library.
"""
