"""QUERY_TOO_COMPLEX when an operation's estimated cost is over `max_cost`, before it runs.

The cost is an upper bound on the work (rows and fields) an operation can make, computed from
the document, the schema and the variables:

    cost(field) = 1 + size(field) * cost(its selections)
    cost(selections) = the sum over the fields, fragments counted where they are spread

`size` is how many objects a field can return:
- a field with a paging argument (`first`, `last`, `top`, `limit`) returns at most that many:
  the value given in the query, else the variable's value, else the variable's default,
  else the argument's default in the schema (`voters(first: Int = 50)` costs 50 per node
  when `first` is left out). Values are clamped to 0..`max_page`: a larger `first` is
  refused by the resolver anyway (BAD_USER_INPUT), and must not be reported as too complex;
- the `edges` / `nodes` list of a `…Connection` type is the page its parent field already
  paid for: size 1;
- any other list field: `default_list_size` (10);
- everything else: 1.
Scalars cost 1 each; introspection fields (`__…`) cost nothing. Abstract selections are
summed over all their fragments (an over-estimate, never an under-estimate).

So `voters(first:500){edges{node{calls(first:500){edges{node{id}}}}}}` costs
1 + 500 * (3 + 500 * 3) = 751,501 and is refused, while a page of 500 voters with 20 fields
each costs about 11,000. OperationGuard (guard.py) runs it in `on_execute`, after validation (an invalid
document never gets here) and with the variables at hand, and replaces the result, so nothing
executes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graphql import (
    FieldNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLField,
    GraphQLSchema,
    IntValueNode,
    NullValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
    value_from_ast_untyped,
)
from graphql.pyutils import Undefined
from graphql.utilities import get_operation_ast

from schema.extensions.fragments import FragmentFold

CODE = "QUERY_TOO_COMPLEX"
PAGE_ARGUMENTS = ("first", "last", "top", "limit")


class Cost(FragmentFold):
    def __init__(
        self,
        definitions: Iterable[Any],
        schema: GraphQLSchema,
        variables: Mapping[str, Any],
        *,
        max_page: int = 500,
        default_list_size: int = 10,
    ) -> None:
        super().__init__(definitions)
        self.schema = schema
        self.variables = dict(variables)
        self.read: set[str] = set()  # the variables the cost depends on
        self.max_page = max_page
        self.default_list_size = default_list_size

    def with_variable_defaults(self, operation: Any) -> Cost:
        for definition in operation.variable_definitions or ():
            name = definition.variable.name.value
            if name not in self.variables and definition.default_value is not None:
                self.variables[name] = value_from_ast_untyped(definition.default_value)
        return self

    def fragment_parent(self, type_condition: str | None, parent: Any) -> Any:
        return self.schema.get_type(type_condition) if type_condition else parent

    def field(self, node: FieldNode, parent: Any) -> int:
        if node.name.value.startswith("__"):
            return 0
        definition = getattr(parent, "fields", {}).get(node.name.value)
        if definition is None:  # validation already refused unknown fields
            return 1
        children = self.selections(node.selection_set, get_named_type(definition.type)) if node.selection_set else 0
        return 1 + self.size(node, definition, parent) * children

    def size(self, node: FieldNode, definition: GraphQLField, parent: Any) -> int:
        for name in PAGE_ARGUMENTS:
            if name in definition.args:
                value = self.argument(node, name, definition.args[name])
                if isinstance(value, int) and not isinstance(value, bool):
                    return min(max(value, 0), self.max_page)
                return self.default_list_size
        if is_list_type(get_nullable_type(definition.type)):  # type: ignore[arg-type]
            if node.name.value in ("edges", "nodes") and getattr(parent, "name", "").endswith("Connection"):
                return 1
            return self.default_list_size
        return 1

    def argument(self, node: FieldNode, name: str, definition: GraphQLArgument) -> Any:
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            value = argument.value
            if isinstance(value, VariableNode):
                self.read.add(value.name.value)
                found = self.variables.get(value.name.value)
                if found is not None:
                    return found
            elif isinstance(value, IntValueNode):
                return int(value.value)
            elif not isinstance(value, NullValueNode):
                return None
        default = definition.default_value
        return None if default is Undefined else default


def operation_cost(
    schema: GraphQLSchema,
    document: Any,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    read: set[str] | None = None,
    **options: int,
) -> int | None:
    """The cost of the operation that would run, or None when there is no single one. The
    names of the variables it depends on are added to `read`."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    root = schema.get_root_type(operation.operation)
    if root is None:
        return None
    cost = Cost(document.definitions, schema, variables or {}, **options).with_variable_defaults(operation)
    value = cost.selections(operation.selection_set, root)
    if read is not None:
        read |= cost.read
    return value


def cost_error(cost: int, max_cost: int) -> GraphQLError:
    return GraphQLError(
        f"The query would cost {cost}; at most {max_cost} is allowed (ask for smaller pages)",
        extensions={"code": CODE, "cost": cost, "maxCost": max_cost},
    )


_ABSENT = object()


def _values(variables: Mapping[str, Any], names: tuple[str, ...]) -> tuple[Any, ...]:
    # With the type: True == 1 == 1.0, but the cost tells them apart.
    return tuple((type(v), v) for v in (variables.get(n, _ABSENT) for n in names))


class CostMemo:
    """`operation_cost` remembered per document and operation, keyed by the values of the
    variables the cost depends on (the paging ones): the same query with another booth or EPIC
    costs the same, and is not walked again. Bounded: `maxsize` documents, `per_document`
    variable combinations each. A RecursionError counts as over the limit."""

    def __init__(self, max_cost: int, *, maxsize: int = 1024, per_document: int = 64, **options: int) -> None:
        self.max_cost = max_cost
        self.maxsize = maxsize
        self.per_document = per_document
        self.options = options
        # (query, operation name) -> (names of the variables read, {their values: cost})
        self._memo: dict[tuple[str, str | None], tuple[tuple[str, ...], dict[tuple[Any, ...], int | None]]] = {}

    def cost(
        self,
        schema: GraphQLSchema,
        query: str,
        document: Any,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> int | None:
        variables = variables or {}
        entry = self._memo.get((query, operation_name))
        if entry is not None:
            names, costs = entry
            key = _values(variables, names)
            try:
                return costs[key]
            except KeyError:
                pass
            except TypeError:  # an unhashable value (a list): no memo for it
                return self._compute(schema, document, operation_name, variables, set())
        read: set[str] = set()
        cost = self._compute(schema, document, operation_name, variables, read)
        names = tuple(sorted(read))
        key = _values(variables, names)
        try:
            hash(key)
        except TypeError:
            return cost
        if entry is None or entry[0] != names:
            if len(self._memo) >= self.maxsize:
                self._memo.pop(next(iter(self._memo)))
            entry = self._memo[(query, operation_name)] = (names, {})
        if len(entry[1]) >= self.per_document:
            entry[1].clear()
        entry[1][key] = cost
        return cost

    def _compute(
        self,
        schema: GraphQLSchema,
        document: Any,
        operation_name: str | None,
        variables: Mapping[str, Any],
        read: set[str],
    ) -> int | None:
        try:
            return operation_cost(schema, document, operation_name, variables, read, **self.options)
        except RecursionError:
            return self.max_cost + 1
