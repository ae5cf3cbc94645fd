"""The one renderer of an error answer: a `core.errors` class becomes its HTTP status, its
headers and the GraphQL error shape (service.md), so a client reads a 401, 404, 413, 429 or 503
the same way it reads a GraphQL error."""

from __future__ import annotations

import orjson
from starlette.responses import Response
from starlette.types import Message, Send

from core.errors import BoothgraphError

_JSON_SCALARS = (str, int, float, bool, type(None), list)


def error_response(error: BoothgraphError) -> Response:
    """{"errors":[{"message":…,"extensions":{"code":…, …}}]} with the error's status and headers."""
    extensions = {k: v for k, v in error.extensions.items() if isinstance(v, _JSON_SCALARS)}
    body = orjson.dumps({"errors": [{"message": error.message, "extensions": extensions}]})
    return Response(body, status_code=error.status, media_type="application/json", headers=error.headers())


class ResponseTracker:
    """Wraps `send` to know whether the response has started (then it cannot be replaced)."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)
