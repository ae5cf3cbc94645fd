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


# field nodes -> {path below the field: the names selected there}. Like _SELECTIONS: strawberry's
# `selected_fields` converts the whole selection into new objects on every call (~50 us a request
# for `voter(epicNumber:)`), while what it names depends on the cached document alone.
_SELECTED_NAMES: IdentityMemo[dict[tuple[str, ...], frozenset[str]]] = IdentityMemo(1024)


def selected_names(info: strawberry.Info, *path: str) -> frozenset[str]:
    """Names of the fields selected on the object this field returns, or under `path` below it
    (through fragments and aliases; directives are not evaluated)."""
    nodes = info._raw_info.field_nodes
    by_path = _SELECTED_NAMES.get(nodes)
    if by_path is None:
        by_path = {}
        _SELECTED_NAMES.put(nodes, by_path)
    found = by_path.get(path)
    if found is None:
        fields: list[Any] = list(info.selected_fields)
        for name in path:
            fields = children(fields, name)
        found = by_path[path] = frozenset(names(fields))
    return found
