"""The Page every list resolver returns (keyset pagination; cursors: resolvers/cursors.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from resolvers.cursors import CursorCodec

T = TypeVar("T")


@dataclass(slots=True)
class Page(Generic[T]):
    """One page of a keyset connection: items with their cursors; `total` only when asked.

    Cursors are either given (`cursors`, one per item) or encoded on demand from the items'
    keyset values (`keys` with `codec`), so a page whose edge cursors nobody selects signs one
    cursor (endCursor), not fifty."""

    items: list[T] = field(default_factory=list)
    cursors: list[str] = field(default_factory=list)
    has_next: bool = False
    total: int = 0
    keys: list[Sequence[Any]] = field(default_factory=list)
    codec: CursorCodec | None = None

    def cursor(self, index: int) -> str:
        if self.cursors:
            return self.cursors[index]
        assert self.codec is not None
        return self.codec.encode(self.keys[index])

    @property
    def start_cursor(self) -> str | None:
        return self.cursor(0) if self.items else None

    @property
    def end_cursor(self) -> str | None:
        return self.cursor(len(self.items) - 1) if self.items else None
