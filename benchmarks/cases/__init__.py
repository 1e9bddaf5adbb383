"""Benchmark cases. Each module defines ``GROUPS: list[Group]``."""
