"""The browser track: notebooks 01–04 and 11 also run in JupyterLite, whose Python (Pyodide) lives in a browser tab.

A browser tab has no brokers, no PostgreSQL, no threads and no second process. A notebook section that needs one of
them asks :func:`skipped_in_browser` first: on a machine it returns False and the section runs; in the browser it
says what is skipped and why, and returns True, so Run All carries on to the end instead of crashing.
"""

from __future__ import annotations

import sys

#: where a learner in the browser finds the full course
FULL_COURSE = "the full course runs it on your machine (README, Quick start)"


def in_browser() -> bool:
    """Whether this Python is Pyodide (JupyterLite's kernel), which runs inside a browser tab."""
    return sys.platform == "emscripten"


def skipped_in_browser(section: str, needs: str) -> bool:
    """True in the browser, after saying that ``section`` is skipped because it needs ``needs``; False elsewhere."""
    if not in_browser():
        return False
    print(f"Skipped in the browser: {section} needs {needs}, which a browser tab does not have; {FULL_COURSE}.")
    return True
