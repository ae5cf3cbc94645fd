"""The guard's validation memo (schema/extensions/guard.py): keyed by the query text, a hit only
for the very document object validated, so a text parsed again (another document object, as after
the parse cache dropped it) is validated again, never answered from another document."""

from __future__ import annotations

from graphql import build_schema, parse, specified_rules

from schema.extensions.guard import validation_errors

SCHEMA = build_schema("type Query { a: Int }")
RULES = tuple(specified_rules)


def test_a_hit_needs_the_very_document_that_was_validated() -> None:
    text = "{ a }"
    document = parse(text)
    first = validation_errors(SCHEMA, text, document, RULES)
    assert first == [] and validation_errors(SCHEMA, text, document, RULES) is first
    again = parse(text)  # the same text, another document object
    assert validation_errors(SCHEMA, text, again, RULES) is not first


def test_errors_are_those_of_the_document_passed() -> None:
    text = "{ b }"
    errors = validation_errors(SCHEMA, text, parse(text), RULES)
    assert [e.message for e in errors] == ["Cannot query field 'b' on type 'Query'. Did you mean 'a'?"]
    # A document that does not belong to the text (not a path the guard takes) is still judged by itself.
    assert validation_errors(SCHEMA, text, parse("{ a }"), RULES) == []
