"""course_lib: the shared library of the event-driven architecture course.

Small modules, one concept each. Domain code has no I/O; infrastructure sits behind narrow protocols.
"""

__version__ = "0.1.0"
