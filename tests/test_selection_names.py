"""schema.relay.selected_names: what a field's selection names (through fragments, inline
fragments and aliases, at a path below the field), worked out once per parsed document."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import execute, parse
from strawberry.types.nodes import SelectedField

from schema.relay import selected_names

SEEN: list[dict[str, frozenset[str]]] = []


@strawberry.type
class Booth:
    code: str = "B1"
    name: str = "Booth one"


@strawberry.type
class Person:
    name: str = "A"
    phone: str = "9000000001"
    booth: Booth = strawberry.field(default_factory=Booth)


@strawberry.type
class Query:
    @strawberry.field
    def person(self, info: strawberry.Info) -> Person:
        SEEN.append({"top": selected_names(info), "booth": selected_names(info, "booth")})
        return Person()


SCHEMA = strawberry.Schema(query=Query)

DOCUMENT = """
query People($withPhone: Boolean!) {
  person {
    ...Contact
    who: name
    ... on Person { booth { code } }
  }
}
fragment Contact on Person { phone @include(if: $withPhone) booth { name } }
"""


def run(document: Any, **variables: Any) -> dict[str, Any]:
    result = execute(SCHEMA._schema, document, variable_values=variables)
    assert result.errors is None
    assert result.data is not None
    return result.data


def test_names_come_through_fragments_aliases_and_paths() -> None:
    SEEN.clear()
    data = run(parse(DOCUMENT), withPhone=True)
    assert data == {"person": {"phone": "9000000001", "booth": {"name": "Booth one", "code": "B1"}, "who": "A"}}
    # Names, not response keys; a field under @include counts whatever its condition (the
    # selection depends on the document alone, so it can be remembered per document).
    assert SEEN == [{"top": frozenset({"phone", "booth", "name"}), "booth": frozenset({"name", "code"})}]


def test_the_same_document_is_converted_once(monkeypatch: Any) -> None:
    calls: list[object] = []
    original = SelectedField.from_node.__func__  # type: ignore[attr-defined]

    def counting(cls: Any, info: Any, node: Any) -> Any:
        calls.append(node)
        return original(cls, info, node)

    monkeypatch.setattr(SelectedField, "from_node", classmethod(counting))
    document = parse(DOCUMENT)
    SEEN.clear()
    run(document, withPhone=True)
    first = len(calls)
    assert first > 0
    run(document, withPhone=False)
    run(document, withPhone=True)
    assert len(calls) == first  # no conversion for the second and third requests
    assert SEEN[0] == SEEN[1] == SEEN[2]
    run(parse(DOCUMENT), withPhone=True)  # another parse: other nodes, converted again
    assert len(calls) > first
