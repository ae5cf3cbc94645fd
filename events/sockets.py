"""The open websockets of a process: admitted within WS_MAX_CONNECTIONS (per process) and
WS_MAX_CONNECTIONS_PER_USER, found by user, session or API key when the database announces a
change, and closed with graphql-transport-ws's codes:

- 4401 Unauthorized: the token expired (a timer at its `exp`), its session ended or its key was
  revoked, or the user is gone;
- 4403 Forbidden: a role the socket was opened with was revoked (its subscriptions were decided
  with it); roles only added are taken on without closing;
- 4429 Too many: over a connection limit (at connection_init).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from core.viewer import Viewer

UNAUTHORIZED = 4401
FORBIDDEN = 4403
TOO_MANY = 4429


class Refused(Exception):
    """A websocket refused at connection_init or closed later: the close code and its reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(eq=False)
class Socket:
    user_id: str
    viewer: Viewer  # replaced when the user's roles change (hub.py)
    close: Callable[[int, str], Awaitable[None]]
    session_id: str | None = None
    key_prefix: str | None = None
    expires_at: float | None = None  # Unix time: the token's exp, or the key's expiry
    closed: bool = False
    _timer: asyncio.TimerHandle | None = field(default=None, repr=False)

    async def shut(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
        with contextlib.suppress(Exception):  # already gone: nothing to tell
            await self.close(code, reason)


class Sockets:
    def __init__(self, *, max_total: int, max_per_user: int) -> None:
        self.max_total = max_total
        self.max_per_user = max_per_user
        self._by_user: dict[str, set[Socket]] = {}
        self._count = 0
        self._closing: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return self._count

    def admit(self, socket: Socket) -> None:
        """Registers the socket and arms its expiry timer, or raises Refused(4429)."""
        if self._count >= self.max_total:
            raise Refused(TOO_MANY, "This server holds as many subscription connections as it may")
        mine = self._by_user.setdefault(socket.user_id, set())
        if len(mine) >= self.max_per_user:
            if not mine:
                del self._by_user[socket.user_id]
            raise Refused(TOO_MANY, f"At most {self.max_per_user} subscription connections per user")
        mine.add(socket)
        self._count += 1
        if socket.expires_at is not None:
            delay = max(0.0, socket.expires_at - time.time())
            socket._timer = asyncio.get_running_loop().call_later(
                delay, self.close_later, socket, UNAUTHORIZED, "The access token has expired"
            )

    def remove(self, socket: Socket) -> None:
        mine = self._by_user.get(socket.user_id)
        if mine is None or socket not in mine:
            return
        mine.discard(socket)
        if not mine:
            del self._by_user[socket.user_id]
        self._count -= 1
        socket.closed = True
        if socket._timer is not None:
            socket._timer.cancel()

    def of_user(self, user_id: str) -> list[Socket]:
        return list(self._by_user.get(user_id, ()))

    def matching(self, predicate: Callable[[Socket], bool]) -> list[Socket]:
        return [s for sockets in self._by_user.values() for s in sockets if predicate(s)]

    def close_later(self, socket: Socket, code: int, reason: str) -> None:
        task = asyncio.create_task(socket.shut(code, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
