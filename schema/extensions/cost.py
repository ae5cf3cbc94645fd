"""QUERY_TOO_COMPLEX when an operation's estimated cost is over `max_cost`, before it runs.

The cost is an upper bound on the work (rows and fields) an operation can make, computed from
the document, the schema and the variables:

    cost(field) = 1 + size(field) * cost(its selections)
    cost(selections) = the sum over the fields, fragments counted where they are spread

`size` is how many objects a field can return:
- a field with a paging argument (`first`, `last`, `top`, `limit`) returns at most that many:
  the argument's value exactly as graphql-core will hand it to the resolver. The variables are
  coerced first (graphql-core's own `get_variable_values`: `500.0` for an Int is 500, a
  variable's default applies when it is left out), then the field's arguments
  (`get_argument_values`: a literal, a variable, the argument's default in the schema). What
  is priced is what runs, whatever form the number took; an explicit null is priced as the
  schema's default, which is what the resolvers use for it. Values are clamped to
  0..`max_page`: a larger `first` is refused by the resolver anyway (BAD_USER_INPUT), and must
  not be reported as too complex. Variables that do not coerce cost nothing: such an
  operation does not run;
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
    GraphQLError,
    GraphQLField,
    GraphQLSchema,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.utilities import get_operation_ast

from core.errors import QueryTooComplex
from schema.extensions.fragments import FragmentFold
from schema.extensions.masking import as_graphql_error

PAGE_ARGUMENTS = ("first", "last", "top", "limit")


class Cost(FragmentFold):
    def __init__(
        self,
        definitions: Iterable[Any],
        schema: GraphQLSchema,
        variables: VariableValues,
        *,
        max_page: int = 500,
        default_list_size: int = 10,
    ) -> None:
        super().__init__(definitions)
        self.schema = schema
        self.variables = variables
        self.read: set[str] = set()  # the variables the cost depends on
        self.max_page = max_page
        self.default_list_size = default_list_size

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
                value = self.argument(node, name, definition)
                if value is None:  # null: the resolvers use the schema's default
                    value = definition.args[name].default_value
                if isinstance(value, int) and not isinstance(value, bool):
                    return min(max(value, 0), self.max_page)
                return self.default_list_size
        if is_list_type(get_nullable_type(definition.type)):  # type: ignore[arg-type]
            if node.name.value in ("edges", "nodes") and getattr(parent, "name", "").endswith("Connection"):
                return 1
            return self.default_list_size
        return 1

    def argument(self, node: FieldNode, name: str, definition: GraphQLField) -> Any:
        """The value of argument `name` as the executor passes it to the resolver."""
        for argument in node.arguments or ():
            if argument.name.value == name:
                self.read.update(variables_in(argument.value))
        try:
            return get_argument_values(definition, node, self.variables).get(name)
        except GraphQLError:  # the field fails before its resolver runs
            return None


def variables_in(value: ValueNode) -> set[str]:
    """Names of the variables used anywhere in an argument's value (lists, input objects)."""
    if isinstance(value, VariableNode):
        return {value.name.value}
    if isinstance(value, ListValueNode):
        return set().union(*(variables_in(v) for v in value.values))
    if isinstance(value, ObjectValueNode):
        return set().union(*(variables_in(f.value) for f in value.fields))
    return set()


def coerce_variables(
    schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Mapping[str, Any] | None
) -> VariableValues | None:
    """The operation's variables coerced as graphql-core's executor coerces them, or None when
    they do not coerce (the operation is then refused without running)."""
    coerced = get_variable_values(schema, operation.variable_definitions or (), dict(variables or {}), max_errors=1)
    return None if isinstance(coerced, list) else coerced


def operation_cost(
    schema: GraphQLSchema,
    document: Any,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    read: set[str] | None = None,
    **options: int,
) -> int | None:
    """The cost of the operation that would run, or None when there is no single one or its
    variables do not coerce. The names of the variables it depends on are added to `read`."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    coerced = coerce_variables(schema, operation, variables)
    if coerced is None:
        return None
    return coerced_operation_cost(schema, document, operation, coerced, read, **options)


def coerced_operation_cost(
    schema: GraphQLSchema,
    document: Any,
    operation: OperationDefinitionNode,
    variables: VariableValues,
    read: set[str] | None = None,
    **options: int,
) -> int | None:
    root = schema.get_root_type(operation.operation)
    if root is None:
        return None
    cost = Cost(document.definitions, schema, variables, **options)
    value = cost.selections(operation.selection_set, root)
    if read is not None:
        read |= cost.read
    return value


def cost_error(cost: int, max_cost: int) -> GraphQLError:
    message = f"The query would cost {cost}; at most {max_cost} is allowed (ask for smaller pages)"
    return as_graphql_error(QueryTooComplex(message, cost=cost, maxCost=max_cost))


_ABSENT = object()


def _values(variables: Mapping[str, Any], names: tuple[str, ...]) -> tuple[Any, ...]:
    # With the type: True == 1 == 1.0, but the cost tells them apart.
    return tuple((type(v), v) for v in (variables.get(n, _ABSENT) for n in names))


class CostMemo:
    """`operation_cost` remembered per document and operation, keyed by the values, as sent, of
    the variables the cost depends on (the paging ones): the same query with another booth or
    EPIC costs the same, and is neither coerced nor walked again. A key holds each value with
    its type (`500` and `500.0` are two keys, `true` is not `1`) or its absence (the default
    applies), and a variable's coerced value depends on nothing else, so every key was priced
    from the coerced values graphql-core will run with. Only a miss coerces (~5-15 us a request
    otherwise): a hit does not notice that some other variable fails to coerce, which graphql-core
    then refuses before anything runs; a hit over the limit is checked the full way, so such an
    operation is refused for its variables as before. Bounded: `maxsize` documents,
    `per_document` variable combinations each. A RecursionError counts as over the limit."""

    def __init__(self, max_cost: int, *, maxsize: int = 1024, per_document: int = 64, **options: int) -> None:
        self.max_cost = max_cost
        self.maxsize = maxsize
        self.per_document = per_document
        self.options = options
        # (query, operation name) -> (names of the variables read, {their values as sent: cost})
        self._memo: dict[tuple[str, str | None], tuple[tuple[str, ...], dict[tuple[Any, ...], int | None]]] = {}

    def cost(
        self,
        schema: GraphQLSchema,
        query: str,
        document: Any,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> int | None:
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return None
        sent = variables or {}
        entry = self._memo.get((query, operation_name))
        if entry is not None and isinstance(sent, Mapping):
            costs = entry[1]
            try:
                key = _values(sent, entry[0])
                hit = key in costs
            except TypeError:  # an unhashable value (a list): no memo for it
                hit = False
            if hit:
                found = costs[key]
                if found is None or found <= self.max_cost:
                    return found
        try:
            coerced = coerce_variables(schema, operation, variables)
        except RecursionError:
            return self.max_cost + 1
        if coerced is None:  # refused by graphql-core before anything runs
            return None
        read: set[str] = set()
        cost = self._compute(schema, document, operation, coerced, read)
        names = tuple(sorted(read))
        if not isinstance(sent, Mapping):
            return cost
        key = _values(sent, names)
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
        operation: OperationDefinitionNode,
        variables: VariableValues,
        read: set[str],
    ) -> int | None:
        try:
            return coerced_operation_cost(schema, document, operation, variables, read, **self.options)
        except RecursionError:
            return self.max_cost + 1
