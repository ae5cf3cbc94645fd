"""The fan-out: notices from the listener, read once, delivered to each subscriber its filter
lets hear them (events/filters.py), in the order PostgreSQL sent them (one consumer task).

A subscriber is a bounded queue (EVENTS_QUEUE_SIZE): a client that does not read loses its
oldest events, never the process's memory. Turnout is throttled per election and unit
(events/throttle.py) and read once per group of subscribers holding the same roles at the same
places (their answers are the same), with each group's own `read`.

Also here: role changes (`boothgraph_assignments`) reload the viewer of the user's open sockets
and close those that lost a role (4403); a session's end or a key's revocation closes its
sockets (4401); see sockets.py."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from core.viewer import load_viewer
from events import filters, notices
from events.sockets import FORBIDDEN, UNAUTHORIZED, Socket, Sockets
from events.throttle import Throttle
from policies import PolicyEngine
from resolvers import audit
from resolvers.events import CallEventRow, ImportEntry, booth_ancestors, call_event, import_entries
from resolvers.redaction import ReadLog, RedactedVoter

log = logging.getLogger("boothgraph.events")

ENDED = object()  # put in a queue: the subscription ends (its read says the viewer may no longer see it)
SEEN_IMPORT_ENTRIES = 4096


@dataclass(frozen=True, slots=True)
class CallEvent:
    row: CallEventRow
    voter: RedactedVoter


@dataclass(frozen=True, slots=True)
class ImportEvent:
    entries: tuple[ImportEntry, ...]
    mine: bool


@dataclass(eq=False)
class Subscription:
    socket: Socket
    queue: asyncio.Queue[Any]
    dropped: int = 0

    def offer(self, item: Any) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(item)


TurnoutRead = Callable[[Socket], Awaitable[Any]]


@dataclass(eq=False)
class TurnoutWatch:
    subscribers: dict[Subscription, TurnoutRead] = field(default_factory=dict)


class Hub:
    def __init__(
        self,
        *,
        pool: Callable[[], asyncpg.Pool],
        policy: Callable[[], PolicyEngine],
        sockets: Sockets,
        turnout_interval_s: float,
        queue_size: int,
        today: Callable[[], dt.date],
    ) -> None:
        self.pool = pool
        self.today = today
        self.policy = policy
        self.sockets = sockets
        self.queue_size = queue_size
        self.calls: dict[Subscription, int | None] = {}
        self.imports: set[Subscription] = set()
        self.turnout: dict[tuple[int, int], TurnoutWatch] = {}
        self.throttle = Throttle(turnout_interval_s, self._fire_turnout)
        self.notices: asyncio.Queue[notices.Notice] = asyncio.Queue()
        self.delivered = 0  # events put in subscribers' queues (for tests and the bench)
        self.turnout_reads = 0  # turnout readings made for throttled ticks (for tests)
        self._seen_imports: OrderedDict[int, None] = OrderedDict()
        self._booths: dict[int, tuple[int, ...]] = {}
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ running ---
    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="events-hub")

    async def close(self) -> None:
        await self.throttle.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def deliver(self, channel: str, payload: str) -> None:
        """The listener's callback (synchronous): parse, queue for the consumer."""
        notice = notices.parse(channel, payload)
        if notice is None:
            log.warning("events: ignored a notification on %s", channel)
            return
        self.notices.put_nowait(notice)

    def gap(self) -> None:
        """The LISTEN connection was away: turnout subscribers get a fresh reading (calls and
        imports announced meanwhile are lost; docs/events.md)."""
        for key in list(self.turnout):
            self.throttle.poke(key)

    async def _run(self) -> None:
        while True:
            notice = await self.notices.get()
            try:
                await self._handle(notice)
            except asyncio.CancelledError:
                raise
            except Exception:  # one event that cannot be read must not stop the others
                log.exception("events: could not deliver %s", notice)

    async def _handle(self, notice: notices.Notice) -> None:
        if isinstance(notice, notices.CallLogged):
            if self.calls:
                await self._call(notice.call_id)
        elif isinstance(notice, notices.ImportAudited):
            if self.imports:
                await self._import(notice.entry_id)
        elif isinstance(notice, notices.TurnoutMarked):
            if self.turnout:
                await self._turnout(notice.election_id, notice.booth_id)
        elif isinstance(notice, notices.RolesChanged):
            await self._roles_changed(notice.user_id)
        elif isinstance(notice, notices.SessionEnded):
            for socket in self.sockets.matching(lambda s: s.session_id == notice.session_id):
                self.sockets.close_later(socket, UNAUTHORIZED, "The session has ended; sign in again")
        elif isinstance(notice, notices.KeyRevoked):
            for socket in self.sockets.matching(lambda s: s.key_prefix == notice.prefix):
                self.sockets.close_later(socket, UNAUTHORIZED, "The API key is not valid")

    # ------------------------------------------------------------------- events ---
    async def _call(self, call_id: int) -> None:
        row = await call_event(self.pool(), call_id, self.today())
        if row is None:
            return
        policy = self.policy()
        for sub, campaign in list(self.calls.items()):
            if campaign is not None and campaign != row.campaign_id:
                continue
            viewer = sub.socket.viewer
            if filters.hears_call(policy, viewer, row):
                sub.offer(CallEvent(row, filters.call_voter(policy, viewer, row)))
                self.delivered += 1

    async def _import(self, entry_id: int) -> None:
        if entry_id in self._seen_imports:
            return
        entries = await import_entries(self.pool(), entry_id)
        for e in entries:
            self._seen_imports[e.id] = None
        while len(self._seen_imports) > SEEN_IMPORT_ENTRIES:
            self._seen_imports.popitem(last=False)
        policy = self.policy()
        for sub in list(self.imports):
            heard = filters.heard_entries(policy, sub.socket.viewer, entries)
            if heard:
                sub.offer(ImportEvent(tuple(heard), mine=heard[0].user_id == sub.socket.user_id))
                self.delivered += 1

    async def _turnout(self, election_id: int, booth_id: int) -> None:
        ancestors = self._booths.get(booth_id)
        if ancestors is None:
            ancestors = self._booths[booth_id] = await booth_ancestors(self.pool(), booth_id)
        for unit_id in ancestors:
            if (election_id, unit_id) in self.turnout:
                self.throttle.poke((election_id, unit_id))

    async def _fire_turnout(self, key: Hashable) -> None:
        watch = self.turnout.get(key)  # type: ignore[call-overload]
        if watch is None:
            return
        answers: dict[Any, Any] = {}
        for sub, read in list(watch.subscribers.items()):
            # Same roles at the same places, same answer (the watch is one election and unit): read
            # once per group, with the first subscriber's read.
            group = sub.socket.viewer.links
            if group not in answers:
                self.turnout_reads += 1
                try:
                    answers[group] = await read(sub.socket)
                except Exception:
                    log.exception("events: turnout read failed")
                    continue
            answer = answers[group]
            sub.offer(ENDED if answer is None else answer)
            self.delivered += 1

    # --------------------------------------------------------------- revocation ---
    async def _roles_changed(self, user_id: str) -> None:
        sockets = self.sockets.of_user(user_id)
        if not sockets:
            return
        viewer = await load_viewer(self.pool(), user_id)
        for socket in sockets:
            if viewer is None:
                self.sockets.close_later(socket, UNAUTHORIZED, "The token's user does not exist")
                continue
            had = {a.assignment_id for a in socket.viewer.assignments}
            if not had <= {a.assignment_id for a in viewer.assignments}:
                self.sockets.close_later(socket, FORBIDDEN, "A role of this connection was revoked")
                continue
            socket.viewer = viewer

    # ------------------------------------------------------------ subscriptions ---
    def _new(self, socket: Socket) -> Subscription:
        return Subscription(socket, asyncio.Queue(self.queue_size))

    @contextlib.contextmanager
    def calls_of(self, socket: Socket, campaign_id: int | None) -> Any:
        sub = self._new(socket)
        self.calls[sub] = campaign_id
        try:
            yield sub
        finally:
            self.calls.pop(sub, None)

    @contextlib.contextmanager
    def imports_of(self, socket: Socket) -> Any:
        sub = self._new(socket)
        self.imports.add(sub)
        try:
            yield sub
        finally:
            self.imports.discard(sub)

    @contextlib.contextmanager
    def turnout_of(self, socket: Socket, election_id: int, unit_id: int, read: TurnoutRead) -> Any:
        key = (election_id, unit_id)
        sub = self._new(socket)
        self.turnout.setdefault(key, TurnoutWatch()).subscribers[sub] = read
        try:
            yield sub
        finally:
            watch = self.turnout.get(key)
            if watch is not None:
                watch.subscribers.pop(sub, None)
                if not watch.subscribers:
                    del self.turnout[key]
                    self.throttle.forget(key)

    def subscriber_count(self) -> int:
        return len(self.calls) + len(self.imports) + sum(len(w.subscribers) for w in self.turnout.values())

    # ------------------------------------------------------------------- audit ---
    async def audit_reads(self, user_id: str, read_log: ReadLog) -> None:
        """What a delivered payload showed in clear (a phone), audited like an HTTP request's
        reads (server.record_reads): one entry per action and booth."""
        entries = read_log.entries()
        if not entries:
            return
        async with self.pool().acquire() as conn, conn.transaction():
            await audit.record_many(
                conn,
                user_id=user_id,
                actions=[a for a, _, _ in entries],
                unit_codes=[c for _, c, _ in entries],
                records=[n for _, _, n in entries],
            )


async def events_of(sub: Subscription) -> AsyncIterator[Any]:
    """The subscription's events until its read says it ended."""
    while True:
        item = await sub.queue.get()
        if item is ENDED:
            return
        yield item
