"""Serve the built JupyterLite site on 127.0.0.1: ``python -m lite.serve [--port 8000] [--dir dist/lite]``.

Any static web server works (GitHub Pages, ``nginx``); this one only makes sure the types a browser insists on are
right (``.mjs`` as JavaScript, ``.wasm`` as WebAssembly), which Python 3.11's own table lacks for ``.mjs``.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import sys
import threading
from pathlib import Path
from typing import Any

from lite.build import OUT

TYPES = {".mjs": "text/javascript", ".js": "text/javascript", ".wasm": "application/wasm",
         ".json": "application/json", ".whl": "application/octet-stream", ".ipynb": "application/json"}


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with the right content types, and no log line per request."""

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        return TYPES.get(Path(path).suffix) or super().guess_type(path)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def start(directory: Path = OUT, port: int = 0) -> http.server.ThreadingHTTPServer:
    """Serve ``directory`` on 127.0.0.1 from a background thread (port 0: any free port); ``shutdown()`` stops it."""
    if not (directory / "index.html").exists():
        raise FileNotFoundError(f"no site in {directory}: build it first with `make lite`")
    handler = functools.partial(SiteHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, name="lite-site", daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lite.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--dir", type=Path, default=OUT)
    args = parser.parse_args(argv)
    try:
        server = start(args.dir, args.port)
    except (FileNotFoundError, OSError) as exc:
        print(f"lite serve: {exc}", file=sys.stderr)
        return 1
    port = server.server_address[1]
    print(f"The course in the browser: http://127.0.0.1:{port}/lab/index.html  (Ctrl+C stops the server)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
