"""Relay pieces: the Node interface, PageInfo, and what a connection's selection asks for.

Ids are opaque global ids (resolvers.cursors.to_global_id: base64 of "Type:pk"). A malformed or
foreign id given to `node(id)` resolves to null, like an id of something out of scope.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import strawberry
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from resolvers.page import Page
from schema.identity_memo import IdentityMemo


@strawberry.interface
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


def page_info(page: Page[Any]) -> PageInfo:
    """Forward-only keyset pagination: hasPreviousPage is always false (allowed by the Relay
    spec when paginating with first/after)."""
    return PageInfo(
        has_next_page=page.has_next,
        has_previous_page=False,
        start_cursor=page.start_cursor,
        end_cursor=page.end_cursor,
    )


# --------------------------------------------------------------- selections ---
def _fields(selections: Iterable[Selection]) -> Iterable[SelectedField]:
    for sel in selections:
        if isinstance(sel, SelectedField):
            yield sel
        elif isinstance(sel, (FragmentSpread, InlineFragment)):
            yield from _fields(sel.selections)


def children(fields: Iterable[Selection], name: str) -> list[SelectedField]:
    """The fields called `name` selected under any of `fields` (through fragments and aliases)."""
    return [f for parent in _fields(fields) for f in _fields(parent.selections) if f.name == name]


def names(fields: Iterable[Selection]) -> set[str]:
    """Names of the fields selected under any of `fields` (through fragments)."""
    return {f.name for parent in _fields(fields) for f in _fields(parent.selections)}


class ConnectionSelection:
    """What one connection field's selection contains."""

    __slots__ = ("total", "page", "node")

    def __init__(self, info: strawberry.Info) -> None:
        top = info.selected_fields
        here = names(top)
        self.total = "totalCount" in here
        self.page = "edges" in here or "pageInfo" in here
        self.node = names(children(children(top, "edges"), "node"))


# field nodes -> their selection. What a selection names depends on the document only (not on
# variables: directives are not evaluated here), and parsed documents are cached, so a hot query
# asks the same nodes every time.
_SELECTIONS: IdentityMemo[ConnectionSelection] = IdentityMemo(1024)


def connection_selection(info: strawberry.Info) -> ConnectionSelection:
    nodes = info._raw_info.field_nodes
    selection = _SELECTIONS.get(nodes)
    if selection is None:
        selection = ConnectionSelection(info)
        _SELECTIONS.put(nodes, selection)
    return selection


def object_selection(info: strawberry.Info) -> set[str]:
    """Field names selected on the object returned by this field (through fragments)."""
    return names(info.selected_fields)
