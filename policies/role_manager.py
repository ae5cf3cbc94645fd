"""A Casbin role manager that looks up only the ancestors of the requested domain.

Casbin's stock DomainManager with a domain matching function scans every domain on the first
check in a new one and caches each forever (see engineering-notes.md). Here a user's links are
(role, domain path) pairs kept in one dict, and `has_link(user, role, path)` walks the path's
own prefixes: at most five for our tree. Role-to-role inheritance comes from the policy file's
`g, A, B, *` rules and lives apart from the users' links, so a policy reload keeps the users.
"""

from __future__ import annotations

from collections.abc import Iterable

from casbin.rbac.role_manager import RoleManager

ANY_DOMAIN = "*"


def ancestor_paths(path: str) -> list[str]:
    """ "UP/UP-AWD/UP-AWD-LKO" -> ["UP", "UP/UP-AWD", "UP/UP-AWD/UP-AWD-LKO"]: whole segments only,
    so a grant at LKO never matches LKO2."""
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


class UserLinks:
    """user id -> {domain path: {roles}}; shared by every enforcer built on policy reload."""

    def __init__(self) -> None:
        self._by_user: dict[str, dict[str, frozenset[str]]] = {}
        self._signature: dict[str, tuple[tuple[str, str], ...]] = {}

    def set_user(self, user: str, links: tuple[tuple[str, str], ...]) -> None:
        """Replace one user's links with `links` ((role, path) pairs, sorted); a no-op when equal."""
        if self._signature.get(user) == links:
            return
        by_path: dict[str, set[str]] = {}
        for role, path in links:
            by_path.setdefault(path, set()).add(role)
        if by_path:
            self._by_user[user] = {p: frozenset(r) for p, r in by_path.items()}
            self._signature[user] = links
        else:
            self._by_user.pop(user, None)
            self._signature.pop(user, None)

    def load(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """Bulk load (user, role, path) rows, replacing everything: linear, no per-link work."""
        grouped: dict[str, set[tuple[str, str]]] = {}
        for user, role, path in rows:
            grouped.setdefault(user, set()).add((role, path))
        self._by_user.clear()
        self._signature.clear()
        for user, links in grouped.items():
            self.set_user(user, tuple(sorted(links)))

    def roles_at(self, user: str, path: str) -> frozenset[str] | None:
        paths = self._by_user.get(user)
        return paths.get(path) if paths else None

    def __len__(self) -> int:
        return sum(len(p) for p in self._by_user.values())


class AncestorRoleManager(RoleManager):
    def __init__(self, users: UserLinks) -> None:
        self.users = users
        self._inherits: dict[str, set[str]] = {}  # role -> roles it directly holds too

    # Links from the policy file: only role inheritance, only in the "*" domain.
    def clear(self) -> None:
        self._inherits.clear()

    def add_link(self, name1: str, name2: str, *domain: str) -> None:
        if domain and domain[0] != ANY_DOMAIN:
            raise ValueError(f"g rules in the policy file must use the '*' domain: g, {name1}, {name2}, {domain[0]}")
        self._inherits.setdefault(name1, set()).add(name2)

    def delete_link(self, name1: str, name2: str, *domain: str) -> None:
        self._inherits.get(name1, set()).discard(name2)

    def _role_holds(self, role: str, wanted: str) -> bool:
        seen: set[str] = set()
        stack = [role]
        while stack:
            current = stack.pop()
            if current == wanted:
                return True
            if current not in seen:
                seen.add(current)
                stack.extend(self._inherits.get(current, ()))
        return False

    def has_link(self, name1: str, name2: str, *domain: str) -> bool:
        if name1 == name2:
            return True
        path = domain[0] if domain else ANY_DOMAIN
        if path != ANY_DOMAIN:
            for prefix in ancestor_paths(path):
                roles = self.users.roles_at(name1, prefix)
                if roles and any(self._role_holds(role, name2) for role in roles):
                    return True
        return self._role_holds(name1, name2) and name1 in self._inherits

    def get_roles(self, name: str, *domain: str) -> list[str]:
        path = domain[0] if domain else ANY_DOMAIN
        roles: set[str] = set(self._inherits.get(name, ()))
        if path != ANY_DOMAIN:
            for prefix in ancestor_paths(path):
                roles |= self.users.roles_at(name, prefix) or set()
        return sorted(roles)

    def get_users(self, name: str, *domain: str) -> list[str]:
        return sorted(role for role, held in self._inherits.items() if name in held)

    def print_roles(self) -> None:
        pass
