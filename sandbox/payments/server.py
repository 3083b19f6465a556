"""The HTTP plumbing (`http.server`): parse the request, find its route, check its key,
apply the fault knobs, answer in JSON. What each call does is in `routes.py`."""

from __future__ import annotations

import hmac
import json
import logging
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sandbox.payments.errors import ApiError, invalid
from sandbox.payments.routes import Access, Request, browser_path, find_route, unrecognized
from sandbox.payments.rules import PaymentSandbox

HOST = "127.0.0.1"
MAX_BODY = 64 * 1024
logger = logging.getLogger("sandbox.payments")


class Handler(BaseHTTPRequestHandler):
    server: SandboxServer
    protocol_version = "HTTP/1.1"
    server_version = "CoffeeShopPaymentSandbox/1"
    # Headers and body go out in two writes; with Nagle's algorithm on, the body waits
    # for the client's delayed ACK of the headers: 40 ms added to every call.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        # One line per request, never a header (the API key travels in one).
        sys.stderr.write(
            json.dumps({"time": self.log_date_time_string(), "request": format % args}) + "\n"
        )

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_OPTIONS(self) -> None:
        """CORS preflight (Fetch standard): only browser routes, only from allowed origins."""
        path = urlsplit(self.path).path.rstrip("/")
        cors = self._cors_headers()
        if not browser_path(path) or cors is None:
            self._send(403, {"error": {"type": "invalid_request_error", "code": "cors"}})
            return
        cors.update(
            {
                "Access-Control-Allow-Methods": "POST",
                "Access-Control-Allow-Headers": "Authorization, Content-Type",
                "Access-Control-Max-Age": "600",
            }
        )
        self._send(204, None, cors)

    def _cors_headers(self) -> dict[str, str] | None:
        """The CORS answer headers for an allowed `Origin`, else None (the browser then
        keeps the answer from the page)."""
        origin = self.headers.get("Origin", "")
        if not origin or origin.rstrip("/") not in self.server.app.allowed_origins:
            return None
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}

    def _handle(self, method: str) -> None:
        app = self.server.app
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        found = find_route(method, path)
        access = found[0].access if found else Access.SECRET
        cors = self._cors_headers() if access is Access.BROWSER else None
        try:
            body = self._body() if method == "POST" else {}
            if access is not Access.OPEN:
                self._authenticate(publishable=access is Access.BROWSER)
            if path.startswith("/v1/"):
                app.before_api_call(write=method == "POST")
            if found is None:
                raise unrecognized(method, path)
            route, obj_id = found
            request = Request(
                path=path,
                body=body,
                query=parse_qsl(parts.query),
                idempotency_key=self.headers.get("Idempotency-Key"),
                obj_id=obj_id,
            )
            reply = route.handler(app, request)
            self._send(reply.status, reply.body, {**(cors or {}), **reply.headers})
        except ApiError as err:
            self._send(err.status, err.body, cors)
        except Exception:
            logger.exception("sandbox error on %s %s", method, path)
            self._send(500, {"error": {"type": "api_error", "code": "internal", "message": "?"}})

    def _authenticate(self, *, publishable: bool = False) -> None:
        """The secret key, or (`publishable`: tokenization only) the publishable key."""
        app = self.server.app
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        sent = token.strip().encode()
        ok = hmac.compare_digest(sent, app.api_key.encode())
        if publishable and app.publishable_key:
            ok = hmac.compare_digest(sent, app.publishable_key.encode()) or ok
        elif app.publishable_key and hmac.compare_digest(sent, app.publishable_key.encode()):
            raise ApiError(
                403,
                "invalid_request_error",
                "secret_key_required",
                "This API call cannot be made with a publishable API key.",
            )
        if scheme.lower() != "bearer" or not ok:
            raise ApiError(
                401,
                "invalid_request_error",
                "api_key_invalid",
                "Invalid API key provided (send Authorization: Bearer <key>).",
            )

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise invalid("body_too_large", "Request body too large.")
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            raise invalid("body_invalid", "The body must be a JSON object.") from None
        if not isinstance(data, dict):
            raise invalid("body_invalid", "The body must be a JSON object.")
        return data

    def _send(
        self, status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (timeout, killed worker); what we did is in the journal.
            self.close_connection = True


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, app: PaymentSandbox) -> None:
        self.app = app
        super().__init__((HOST, port), Handler)
