"""A bounded memo keyed by the identity of objects: AST nodes of a parsed (and cached) document,
schema types. Hot queries hand the same node objects to every request, so what is derived
from them alone (a completion plan, what a selection asks for) can be worked out once.

An entry keeps its key objects alive, so no id in a live key can be reused by another object;
a hit checks identity anyway. Full, the memo starts over.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

V = TypeVar("V")


class IdentityMemo(Generic[V]):
    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._entries: dict[tuple[int, ...], tuple[tuple[object, ...], V]] = {}

    def get(self, objects: Sequence[object]) -> V | None:
        """The value put for these very objects (store values that are never None)."""
        found = self._entries.get(tuple(map(id, objects)))
        if found is not None and all(a is b for a, b in zip(found[0], objects, strict=True)):
            return found[1]
        return None

    def put(self, objects: Sequence[object], value: V) -> None:
        if len(self._entries) >= self.maxsize:
            self._entries.clear()
        self._entries[tuple(map(id, objects))] = (tuple(objects), value)
