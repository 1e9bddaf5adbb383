"""Operating the course: the command line (``python -m course_lib``), the pre-flight doctor, reset, and starting
and probing the services. Nothing in the patterns imports it."""
