"""The streamed answer of GET /export/voters.csv, which never pins a connection to a slow reader.

Each chunk must be taken by the client within `send_timeout_s` (EXPORT_SEND_TIMEOUT_S): uvicorn's
`send` waits while the socket's buffers are full, i.e. while the client does not read. Past the
timeout the stream is cut: the rows' generator is closed (its read-only transaction rolls back),
then `closing` (the pooled connection, the export slot) is released, and the server closes the
socket because the response never completed. The same release happens after a complete stream
and after a client that disconnected.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack
from typing import Any

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Message, Send

log = logging.getLogger("boothgraph.transfer")


class SlowReader(Exception):
    """The client took no chunk within the send timeout."""


class ExportResponse(StreamingResponse):
    def __init__(self, content: Any, *, send_timeout_s: float, closing: AsyncExitStack, **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self.send_timeout_s = send_timeout_s
        self.closing = closing

    async def stream_response(self, send: Send) -> None:
        async def timed_send(message: Message) -> None:
            try:
                async with asyncio.timeout(self.send_timeout_s):
                    await send(message)
            except TimeoutError:
                raise SlowReader from None

        try:
            await super().stream_response(timed_send)
        except SlowReader:
            log.warning("export cut: the client read nothing for %.1f s", self.send_timeout_s)
        finally:
            # Shielded: a client that disconnected cancels this task, and the rollback and the
            # connection's return to the pool must still run to the end.
            with anyio.CancelScope(shield=True):
                close = getattr(self.body_iterator, "aclose", None)
                if close is not None:
                    await close()
                await self.closing.aclose()
