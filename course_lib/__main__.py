"""``python -m course_lib``."""

from course_lib.ops.cli import main

raise SystemExit(main())
