"""Our typed face of Casbin: decisions, covering sets, role ranks and levels, hot reload.

Casbin answers "may this user do `permission` at this unit path". It cannot filter data, so
`cover(viewer, permission)` asks it about each of the viewer's assigned units and keeps those
that grant, minus those inside another kept one: the covering set, which resolvers/scope.py
compiles to one SQL condition. This holds while policies are allow-only and grants reach down
the tree, which the model enforces (no deny effect; domains match by ancestor path).

`enforce` is synchronous and mutates Casbin's state: one engine per event loop, never threads.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import casbin

from core.viewer import PAGE, UnitPlace, Viewer
from models import Level
from policies.model_code import ModelCodeFile
from policies.role_manager import AncestorRoleManager, UserLinks

log = logging.getLogger(__name__)

POLICY_DIR = Path(__file__).resolve().parent

PERMISSIONS = (
    "unit.read",
    "stats.read",
    "voter.read",
    "voter.read_contact",
    "voter.read_sensitive",
    "voter.write",
    "data.import",
    "data.export",
    "outreach.manage",
    "outreach.call",
    "role.grant",
    "audit.read",
    "election.manage",
    "turnout.mark",
)


@dataclass(frozen=True, slots=True)
class Cover:
    """The units under which a permission holds for one viewer; none lies inside another."""

    units: tuple[UnitPlace, ...]

    @classmethod
    def of(cls, places: Iterable[UnitPlace]) -> Cover:
        """The cover of these units: duplicates and units lying inside another dropped, the rest
        by (depth, id). The one place a cover is built from loose units."""
        distinct = {p.key: p for p in places}.values()  # a roll page shares its booth's id
        kept = [p for p in distinct if not any(p is not o and p.is_under(o) for o in distinct)]
        return cls(tuple(sorted(kept, key=lambda p: (p.level.depth, p.id, p.page or 0))))

    @property
    def empty(self) -> bool:
        return not self.units

    @property
    def everything(self) -> bool:
        """A STATE unit covers the whole tree (there is one state)."""
        return any(u.level is Level.STATE for u in self.units)

    def covers(self, place: UnitPlace) -> bool:
        return any(place.is_under(u) for u in self.units)

    def covers_ancestors(self, ancestors: tuple[int | None, ...]) -> bool:
        """For a row that carries its (state, region, district, mandal, booth) ids and, for a
        voter, its page as a sixth; voters have no state id, and the one STATE covers everything
        anyway. A page's unit covers only a row that names that page."""
        return any(
            u.level is Level.STATE
            or (
                ancestors[u.level.depth] == u.id
                and (u.page is None or (len(ancestors) > PAGE_INDEX and ancestors[PAGE_INDEX] == u.page))
            )
            for u in self.units
        )

    def within(self, place: UnitPlace) -> Cover:
        """The part of this cover inside `place`'s subtree (all of `place` when it is covered)."""
        if self.covers(place):
            return Cover((place,))
        return Cover(tuple(u for u in self.units if u.is_under(place)))

    def intersection(self, other: Cover) -> Cover:
        """The units covering exactly what both covers hold: a cover's units never nest, so of two
        nested units, one from each, the inner one is their overlap."""
        inner = {u.key: u for u in self.units if other.covers(u)} | {u.key: u for u in other.units if self.covers(u)}
        return Cover(tuple(inner.values()))


EMPTY = Cover(())
PAGE_INDEX = 5  # where a voter's page stands in the ancestors tuple of covers_ancestors


@dataclass(frozen=True, slots=True)
class _Files:
    model: Path
    policy: Path

    def stamp(self) -> tuple[int, int, int, int]:
        m, p = os.stat(self.model), os.stat(self.policy)
        return (m.st_mtime_ns, p.st_mtime_ns, m.st_size, p.st_size)


class PolicyEngine:
    def __init__(self, policy_dir: Path | None = None, *, cache_size: int = 50_000) -> None:
        directory = policy_dir or POLICY_DIR
        self._files = _Files(directory / "model.conf", directory / "policy.csv")
        self.model_code = ModelCodeFile(directory)  # the Model Code's rules, data beside the policy
        self.users = UserLinks()
        self._cache: OrderedDict[tuple[tuple[tuple[str, str], ...], str], Cover] = OrderedDict()
        self._cache_size = cache_size
        self._stamp: tuple[int, int, int, int] | None = None
        self._checked_at = -math.inf  # time.monotonic() of the files' last stat
        self.published_version: int | None = None  # a policy published through the database
        self.reload()

    # ------------------------------------------------------------------ loading ---
    def _build(
        self, files: _Files | None = None
    ) -> tuple[casbin.Enforcer, dict[str, frozenset[str]], dict[str, int], dict[str, frozenset[str]]]:
        files = files or self._files
        enforcer = casbin.Enforcer(str(files.model), str(files.policy))
        enforcer.set_role_manager(AncestorRoleManager(self.users))
        enforcer.build_role_links()
        levels: dict[str, set[str]] = {}
        for role, level in enforcer.get_named_policy("p2"):
            levels.setdefault(role, set()).add(level if level == PAGE else Level(level).value)
        ranks = {role: int(rank) for role, rank in enforcer.get_named_policy("p3")}
        appoints: dict[str, set[str]] = {}
        for role, appointed in enforcer.get_named_policy("p4"):
            appoints.setdefault(role, set()).add(appointed)
        return (
            enforcer,
            {r: frozenset(ls) for r, ls in levels.items()},
            ranks,
            {r: frozenset(a) for r, a in appoints.items()},
        )

    def reload(self) -> None:
        """Read the policy files into a new enforcer and swap it in (requests keep the old one
        until the swap, so they are never blocked by a half-loaded policy)."""
        stamp = self._files.stamp()
        enforcer, levels, ranks, appoints = self._build()
        self._enforcer, self._levels, self._ranks, self._appoints = enforcer, levels, ranks, appoints
        self._cache.clear()
        self._stamp = stamp
        log.info("policy loaded: %d rules", len(enforcer.get_policy()))

    def reload_if_changed(self) -> bool:
        """Reload when a policy file changed on disk; a broken file keeps the last good policy.
        While a policy published through the database is in force, the files are not read."""
        if self.published_version is not None:
            return False
        self._checked_at = time.monotonic()
        try:
            if self._files.stamp() == self._stamp:
                return False
            self.reload()
            return True
        except Exception:  # noqa: BLE001 - a bad edit must not take the server down
            log.exception("policy reload failed; keeping the previous policy")
            return False

    def reload_if_stale(self, max_age_s: float) -> bool:
        """`reload_if_changed` when the files were last looked at more than `max_age_s` ago (the
        request path's check: an edit counts within `max_age_s`, POLICY_FILE_CHECK_S, without two
        stat calls on every request; 0 looks every time)."""
        if self.published_version is not None or time.monotonic() - self._checked_at < max_age_s:
            return False
        return self.reload_if_changed()

    def use_published(self, version: int | None, model: str = "", rules: str = "") -> None:
        """Swap in the policy published through the database (`boothgraph policy publish`,
        migration 0007) at `version`; None: it was withdrawn, back to the files. Casbin reads
        files, so the texts go through a private temporary directory."""
        if version is None:
            self.published_version = None
            self.reload()
            return
        with tempfile.TemporaryDirectory(prefix="boothgraph-policy-") as directory:
            files = _Files(Path(directory) / "model.conf", Path(directory) / "policy.csv")
            files.model.write_text(model, encoding="utf-8")
            files.policy.write_text(rules, encoding="utf-8")
            enforcer, levels, ranks, appoints = self._build(files)
        self._enforcer, self._levels, self._ranks, self._appoints = enforcer, levels, ranks, appoints
        self._cache.clear()
        self.published_version = version
        log.info("published policy %d loaded: %d rules", version, len(enforcer.get_policy()))

    def files_text(self) -> tuple[str, str]:
        """The model and rules of the policy files (what `boothgraph policy publish` publishes)."""
        return self._files.model.read_text(encoding="utf-8"), self._files.policy.read_text(encoding="utf-8")

    def load_assignments(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """Bulk load every (user id, role, unit path) assignment."""
        self.users.load(rows)
        self._cache.clear()

    # ---------------------------------------------------------------- decisions ---
    def _sync(self, viewer: Viewer) -> tuple[tuple[str, str], ...]:
        # The viewer was read from the database for this request: that is the truth, so the
        # user's links are made equal to it before Casbin is asked anything.
        links = viewer.links
        self.users.set_user(viewer.user_id, links)
        return links

    def enforce(self, viewer: Viewer, path: str, permission: str) -> bool:
        self._sync(viewer)
        return bool(self._enforcer.enforce(viewer.user_id, path, permission))

    def cover(self, viewer: Viewer, permission: str) -> Cover:
        if not viewer.assignments:
            return EMPTY
        links = self._sync(viewer)
        key = (links, permission)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        granted: dict[tuple[int, int | None], UnitPlace] = {}
        for assignment in viewer.assignments:
            place = assignment.unit
            if place.key not in granted and self._enforcer.enforce(viewer.user_id, place.path, permission):
                granted[place.key] = place
        cover = Cover.of(granted.values())
        self._cache[key] = cover
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return cover

    def allows(self, viewer: Viewer, permission: str, place: UnitPlace) -> bool:
        return self.cover(viewer, permission).covers(place)

    def permissions_over(self, viewer: Viewer, place: UnitPlace) -> list[str]:
        """Every permission the viewer holds over `place`, in the known order."""
        return [p for p in self.known_permissions() if self.cover(viewer, p).covers(place)]

    def permissions(self, viewer: Viewer) -> list[str]:
        """Every permission the viewer holds anywhere."""
        return [p for p in self.known_permissions() if not self.cover(viewer, p).empty]

    def known_permissions(self) -> list[str]:
        seen = dict.fromkeys(PERMISSIONS)
        for _, act in self._enforcer.get_policy():
            seen.setdefault(act)
        return list(seen)

    # ---------------------------------------------------------- roles as data ---
    def rank(self, role: str) -> int:
        return self._ranks.get(role, 0)

    def allowed_levels(self, role: str) -> frozenset[str]:
        """Level names (and PAGE: one roll page of a booth) where the role may be assigned."""
        return self._levels.get(role, frozenset())

    def appoints(self, role: str) -> frozenset[str]:
        """Roles that `role` may grant and revoke in its scope without role.grant (p4 rules)."""
        return self._appoints.get(role, frozenset())

    def roles(self) -> list[str]:
        return sorted(self._ranks, key=lambda r: -self._ranks[r])


def default_engine() -> PolicyEngine:
    directory = os.environ.get("POLICY_DIR")
    return PolicyEngine(Path(directory) if directory else None)
