"""A fold over an operation's selections that computes each named fragment once.

Depth, alias count and cost all walk the document the same way: fields, inline fragments,
and spreads of named fragments, which count where they are spread. Computing a fragment once
(memo by name) keeps fragment fan-out (`F1 { ...F2 ...F2 }`, `F2 { ...F3 ...F3 }`, …) from
making the walk exponential; a fragment spread inside itself (a cycle, which validation
reports) counts 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graphql import (
    DefinitionNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)


class FragmentFold:
    """Subclasses define `field` (a field's value) and `combine` (sum or max)."""

    def __init__(self, definitions: Iterable[DefinitionNode]) -> None:
        definitions = list(definitions)
        self.operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
        self.fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
        self._memo: dict[str, int] = {}
        self._active: set[str] = set()

    def field(self, node: FieldNode, parent: Any) -> int:
        raise NotImplementedError

    def combine(self, values: Iterable[int]) -> int:
        return sum(values)

    def fragment_parent(self, type_condition: str | None, parent: Any) -> Any:
        """The parent type inside a fragment; only the cost needs types."""
        return parent

    def selections(self, selection_set: SelectionSetNode | None, parent: Any = None) -> int:
        if selection_set is None:
            return 0
        return self.combine(self._selection(s, parent) for s in selection_set.selections)

    def _selection(self, selection: Any, parent: Any) -> int:
        if isinstance(selection, FieldNode):
            return self.field(selection, parent)
        if isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition.name.value if selection.type_condition else None
            return self.selections(selection.selection_set, self.fragment_parent(condition, parent))
        if isinstance(selection, FragmentSpreadNode):
            return self._fragment(selection.name.value, parent)
        return 0  # pragma: no cover - no other kind of selection exists

    def _fragment(self, name: str, parent: Any) -> int:
        if name in self._memo:
            return self._memo[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in self._active:  # unknown or cyclic: validation reports it
            return 0
        self._active.add(name)
        try:
            inner = self.fragment_parent(fragment.type_condition.name.value, parent)
            value = self.selections(fragment.selection_set, inner)
        finally:
            self._active.discard(name)
        self._memo[name] = value
        return value
