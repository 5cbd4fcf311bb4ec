"""A bound on every request body, checked while it streams in (never read whole first): 2 MB for the web pages'
forms, 10 MB for CDS Hooks calls. A larger body is refused with 413 as soon as it passes the bound."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

WEB_MAX_BODY = 2_000_000
CDS_MAX_BODY = 10_000_000


def body_limit(path: str) -> int:
    return CDS_MAX_BODY if path.startswith("/cds-services") else WEB_MAX_BODY


class BodyTooLargeError(Exception):
    """The request body is larger than its bound; the app answers 413."""


class BodyLimit:
    """ASGI middleware: refuse a declared Content-Length over the bound at once, and stop a body that streams past
    it (the app then sees BodyTooLargeError where it reads the body)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope.get("path", ""))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or len(declared) > 12 or int(declared) > limit):
            await _too_large(send, limit)
            return
        received = 0

        async def bounded() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(f"the request body is larger than {limit // 1_000_000} MB")
            return message

        await self.app(scope, bounded, send)


async def _too_large(send: Send, limit: int) -> None:
    body = f"The request body is larger than {limit // 1_000_000} MB.".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                (b"x-content-type-options", b"nosniff"),
                (b"x-frame-options", b"DENY"),
                (b"cache-control", b"no-store"),
                (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
