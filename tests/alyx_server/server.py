"""The Alyx test server: real HTTP/1.1 on 127.0.0.1, an OS-chosen port (or a given one), daemon
threads.

    with AlyxTestServer() as server:
        httpx.get(server.base_url + "/labs", headers={"Authorization": "Token " + TEST_TOKEN})
        server.faults.status("POST", "/register-file", 503, retry_after=0)
        server.state.snapshot()
        server.requests.lines()

Each request is decoded, logged, matched against the fault rules, then dispatched
(`handlers.dispatch`). `stop()` shuts the listener, wakes sleeping `delay` faults (which then
neither act nor reply) and closes the connections still open.
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from tests.alyx_server.faults import FaultRule, Faults, LoggedRequest, RequestLog
from tests.alyx_server.handlers import decode_body, dispatch
from tests.alyx_server.state import AlyxState, Reply


class AlyxTestServer:
    """A running (once started) Alyx 3.6.1 stand-in with its state, faults and request log."""

    def __init__(self, state: AlyxState | None = None, port: int = 0) -> None:
        """`port` 0: one the OS chooses (free). The server listens on 127.0.0.1 only."""
        self.state = state or AlyxState()
        self._port = port
        self.faults = Faults()
        self.requests = RequestLog()
        self.stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._finalizers: list[Callable[[], None]] = []

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the Alyx test server is not running")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> AlyxTestServer:
        httpd = _HTTPServer(("127.0.0.1", self._port), _Handler)
        httpd.app = self
        self._httpd = httpd
        self.state.base_url = self.base_url
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"alyx-test-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        finalizers, self._finalizers = self._finalizers, []
        for finalizer in reversed(finalizers):
            finalizer()
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self.stopping.set()
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def add_finalizer(self, finalizer: Callable[[], None]) -> None:
        """Run `finalizer` when the server stops (last added, first run)."""
        self._finalizers.append(finalizer)

    def __enter__(self) -> AlyxTestServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    app: AlyxTestServer

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would resolve the host name (socket.getfqdn): not needed here
        socketserver.TCPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.server_port = self.server_address[1]

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that reset or drop a connection (timeouts, faults, teardown) are normal."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections, self._connections = list(self._connections), set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60
    disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls on kept-alive connections

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is `AlyxTestServer.requests`."""

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        app = cast(_HTTPServer, self.server).app  # the only server that serves this handler
        method = self.command.upper()
        split = urlsplit(self.path)
        content_type = self.headers.get("Content-Type")
        authorization = self.headers.get("Authorization")
        body, body_error = decode_body(self._read_body(), content_type)
        fault = app.faults.take(method, split.path)
        app.requests.append(
            LoggedRequest(
                method=method,
                path=split.path,
                query=parse_qs(split.query, keep_blank_values=True),
                body=body,
                has_auth=authorization is not None,
                content_type=content_type,
                fault=fault.kind if fault else None,
            )
        )
        if fault is not None:
            if fault.kind == "status":
                self._send_fault(fault)
                return
            if fault.kind == "drop":
                self.close_connection = True
                return
            if fault.kind == "delay" and app.stopping.wait(fault.seconds):
                self.close_connection = True
                return
        reply = dispatch(app.state, method, self.path, authorization, body, body_error)
        if fault is not None and fault.kind == "lose_reply":
            self.close_connection = True
            return
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        payload = b"" if reply.status == 204 else json.dumps(reply.body).encode()
        self._write(reply.status, payload, "application/json", reply.headers)

    def _send_fault(self, fault: FaultRule) -> None:
        payload, content_type = fault.payload()
        self._write(fault.status, payload, content_type, fault.headers())

    def _write(
        self, status: int, payload: bytes, content_type: str, headers: dict[str, str]
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Vary", "Accept")
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client went away (timed out)
            self.close_connection = True
