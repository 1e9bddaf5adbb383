"""Starting, stopping and checking the course's local services.

``require("rabbitmq", "kafka")`` is the first line of every notebook that needs a broker (see ``needs``).
"""

from course_lib.ops.services.needs import NOTEBOOK_NEEDS, ServiceMissing, require

__all__ = ["NOTEBOOK_NEEDS", "ServiceMissing", "require"]
