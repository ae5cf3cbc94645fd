"""A faster completion of plain records: the execution context the schema runs with.

graphql-core completes every field of every object through the same general path (resolve
info, resolver call, awaitable check, leaf completion): a few microseconds a field, which
dominates a page of 50 voters with eight fields each (engineering-notes.md). Most objects on
hot lists are plain records whose selected fields are all scalars or enums read straight from
an attribute. For those, `collect_and_execute_subfields` here reads the attributes and
serializes them in one loop, with a plan built once per selection of the operation.

The plan is used only when it cannot change the answer: every selected field is a leaf
(scalar or enum) with no arguments and no directives, defined by a strawberry field without
a resolver, permission classes or field extensions (or `__typename`), and no @defer is in
play. A value that the plan cannot serialize, or a null in a non-null field, falls back to
the general path for that object, so errors come out exactly as graphql-core reports them.
Schema extensions with a `resolve` hook would be bypassed for such fields; ours have none
(tests/test_execution.py checks that the answers are identical with and without the plan).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLID,
    GraphQLInt,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLString,
    InlineFragmentNode,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

from schema.identity_memo import IdentityMemo

DEFINITION = GraphQLCoreConverter.DEFINITION_BACKREF

# (response key, attribute name or None for __typename, serialize (a leaf) or the nested
# object's plan, non-null, the Python type a leaf's value passes through unchanged or None)
Step = tuple[str, str | None, Any, bool, type | None]

# graphql-core's own String and ID give back a str as it is, and its Int an int in 32-bit range.
_PASS_THROUGH: dict[int, type] = {id(GraphQLString): str, id(GraphQLID): str, id(GraphQLInt): int}
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
Plan = tuple[Step, ...]


def _step(context: FastRecordExecutionContext, parent: GraphQLObjectType, key: str, details: Any) -> Step | None:
    nodes = [d.node for d in details]
    node = nodes[0]
    if any(n.directives or n.arguments for n in nodes):
        return None
    name = node.name.value
    if name == "__typename":
        return (key, None, None, True, None)
    field = parent.fields.get(name)
    if field is None or field.args:
        return None
    definition = (field.extensions or {}).get(DEFINITION)
    if definition is None or definition.base_resolver is not None:
        return None
    if definition.permission_classes or definition.extensions:
        return None
    field_type = field.type
    non_null = isinstance(field_type, GraphQLNonNull)
    inner = field_type.of_type if non_null else field_type
    if isinstance(inner, GraphQLEnumType):
        return None if node.selection_set else (key, definition.python_name, _enum_serializer(inner), non_null, None)
    if isinstance(inner, GraphQLScalarType):
        same = _PASS_THROUGH.get(id(inner))
        return None if node.selection_set else (key, definition.python_name, inner.serialize, non_null, same)
    if isinstance(inner, GraphQLObjectType):
        # A plain nested record (an edge's node): planned the same way, or not at all.
        # strawberry's is_type_of is an isinstance check that ignores its `info` argument.
        nested = context._plan(inner, context.collect_subfields(inner, details))
        return None if nested is None else (key, definition.python_name, (inner, nested), non_null, None)
    return None


_ENUM_SERIALIZERS: IdentityMemo[Callable[[Any], Any]] = IdentityMemo(256)


def _enum_serializer(enum_type: GraphQLEnumType) -> Callable[[Any], Any]:
    """strawberry's enum serialization finds a member's name by comparing it with every value
    of the enum; this looks it up, and leaves anything else to the type's own serialize."""
    found = _ENUM_SERIALIZERS.get((enum_type,))
    if found is not None:
        return found
    fallback = enum_type.serialize
    wrapped = getattr(enum_type, "wrapped_cls", None)
    names: dict[Any, str] = {}
    if wrapped is not None:
        for name, value in enum_type.values.items():
            try:
                names[wrapped(value.value)] = name
            except (ValueError, TypeError):
                pass

    def serialize(value: Any) -> Any:
        try:
            return names[value]
        except (KeyError, TypeError):
            return fallback(value)

    _ENUM_SERIALIZERS.put((enum_type,), serialize)
    return serialize


# Plans by (object type, field nodes of the cached document), shared by all requests when no
# directive sits below the fields (@include/@skip/@defer make the fields depend on the
# variables): (True, plan). (False, None) remembers that the selection must be planned per
# request, so that its directives are not looked for again on every object of a list.
_SHARED_PLANS: IdentityMemo[tuple[bool, Plan | None]] = IdentityMemo(2048)


def _free_of_directives(selections: Iterable[Any], fragments: dict[str, Any], seen: set[str]) -> bool:
    for selection in selections:
        if selection.directives:
            return False
        if isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in seen:
                continue
            seen.add(name)
            fragment = fragments.get(name)
            if fragment is None:
                return False
            definition = getattr(fragment, "definition", fragment)  # FragmentDetails or the node
            if definition.directives or not _free_of_directives(definition.selection_set.selections, fragments, seen):
                return False
        elif isinstance(selection, (FieldNode, InlineFragmentNode)) and selection.selection_set:
            if not _free_of_directives(selection.selection_set.selections, fragments, seen):
                return False
    return True


class FastRecordExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[int, tuple[Any, Plan | None]] = {}

    def _plan_for(self, return_type: GraphQLObjectType, field_details_list: Any) -> Plan | None:
        """The plan for these fields of `return_type`: shared between requests when it can be."""
        objects = (return_type, *(d.node for d in field_details_list))
        found = _SHARED_PLANS.get(objects)
        if found is not None and found[0]:
            return found[1]
        plan = self._plan(return_type, self.collect_subfields(return_type, field_details_list))
        if found is None:
            shareable = all(
                d.defer_usage is None and d.fragment_variable_values is None for d in field_details_list
            ) and _free_of_directives(
                (s for d in field_details_list if d.node.selection_set for s in d.node.selection_set.selections),
                self.fragments,
                set(),
            )
            _SHARED_PLANS.put(objects, (True, plan) if shareable else (False, None))
        return plan

    def _plan(self, return_type: GraphQLObjectType, collected: Any) -> Plan | None:
        cached = self._plans.get(id(collected))
        if cached is not None and cached[0] is collected:
            return cached[1]
        grouped_field_set, new_defer_usages, _ = collected
        plan: Plan | None = None
        if not new_defer_usages:
            steps = [_step(self, return_type, key, details) for key, details in grouped_field_set.items()]
            if steps and all(s is not None for s in steps):
                plan = tuple(s for s in steps if s is not None)
        # Keep `collected` alive with its plan so that its id is not reused during execution.
        self._plans[id(collected)] = (collected, plan)
        return plan

    def complete_iterable_value(
        self,
        item_type: Any,
        field_details_list: Any,
        info: Any,
        path: Any,
        items: Any,
        position_context: Any,
    ) -> Any:
        """A list of planned records (a page's edges) in one loop, without graphql-core's
        per-item completion; any item the plan cannot answer sends the whole list down the
        general path, as does @stream."""
        inner = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        if isinstance(inner, GraphQLObjectType) and isinstance(items, list):
            plan = self._plan_for(inner, field_details_list)
            if plan is not None and self.get_stream_usage(field_details_list, path) is None:
                completed = _complete_all(plan, inner, items, info)
                if completed is not None:
                    return completed
        return super().complete_iterable_value(item_type, field_details_list, info, path, items, position_context)

    def collect_and_execute_subfields(
        self,
        return_type: GraphQLObjectType,
        field_details_list: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        plan = self._plan_for(return_type, field_details_list)
        if plan is not None:
            completed = _complete(plan, return_type.name, result)
            if completed is not None:
                return completed
        grouped_field_set, new_defer_usages, _ = self.collect_subfields(return_type, field_details_list)
        return self.execute_collected_subfields(
            return_type, result, path, grouped_field_set, new_defer_usages, position_context
        )


def _complete_all(plan: Plan, item_type: GraphQLObjectType, items: list[Any], info: Any) -> list[Any] | None:
    is_type_of = item_type.is_type_of
    name = item_type.name
    out: list[Any] = []
    for item in items:
        if item is None or (is_type_of is not None and is_type_of(item, info) is not True):
            return None
        completed = _complete(plan, name, item)
        if completed is None:
            return None
        out.append(completed)
    return out


def _complete(plan: Plan, type_name: str, source: Any) -> dict[str, Any] | None:
    """The object's answer, or None when the general path must produce it (errors)."""
    out: dict[str, Any] = {}
    try:
        for key, attribute, serialize, non_null, same in plan:
            if attribute is None:
                out[key] = type_name
                continue
            value = getattr(source, attribute)
            if value is None:
                if non_null:
                    return None
                out[key] = None
                continue
            kind = type(value)
            if kind is same and (kind is str or _INT_MIN <= value <= _INT_MAX):
                out[key] = value
                continue
            if isinstance(serialize, tuple):
                nested_type, nested_plan = serialize
                if nested_type.is_type_of is not None and not nested_type.is_type_of(value, None):
                    return None
                nested = _complete(nested_plan, nested_type.name, value)
                if nested is None:
                    return None
                out[key] = nested
                continue
            serialized = serialize(value)
            if serialized is None:
                return None
            out[key] = serialized
    except Exception:  # noqa: BLE001 - let graphql-core report it its own way
        return None
    return out
