"""A real HTTP server on 127.0.0.1 in a thread, answering from a script: tests of the online
code run the real request/retry/cache code without reaching the internet."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

#: answer(path, query) -> (status, body bytes)
Answer = Callable[[str, dict[str, str]], tuple[int, bytes]]


class LocalServer:
    """``with LocalServer(answer) as srv:`` — ``srv.url``, ``srv.requests`` (path, query)."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[tuple[str, dict[str, str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server API)
                u = urlparse(self.path)
                query = {k: v[-1] for k, v in parse_qs(u.query).items()}
                outer.requests.append((u.path, query))
                status, body = outer.answer(u.path, query)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> LocalServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
