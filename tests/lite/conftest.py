"""The browser track's test uses the browser tests' Chromium fixture (installed when missing, required in CI)."""

from tests.browser.conftest import chromium_executable

__all__ = ["chromium_executable"]
