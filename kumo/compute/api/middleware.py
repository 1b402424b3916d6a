"""Compute-wide response headers: Nova's ``X-Compute-Request-Id`` on every response."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-compute-request-id"


class ComputeRequestId:
    """Echo the request id as ``X-Compute-Request-Id`` too (Nova sends both headers)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                request_id = scope.get("state", {}).get("request_id")
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                if request_id:
                    headers.append((HEADER, str(request_id).encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)
