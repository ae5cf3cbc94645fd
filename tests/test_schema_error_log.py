"""The server log keeps faults (with their trace) and leaves answers out (schema/error_log.py)."""

from __future__ import annotations

import logging

import pytest
import strawberry

from core.errors import Forbidden
from schema.error_log import BoothgraphSchema


@strawberry.type
class Query:
    @strawberry.field
    def refused(self) -> int:
        raise Forbidden("not for your role")

    @strawberry.field
    def broken(self) -> int:
        raise RuntimeError("a bug")


schema = BoothgraphSchema(query=Query)


async def test_a_refusal_is_an_answer_not_a_fault(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        result = await schema.execute("{ refused }")
    assert result.data is None
    assert [e.message for e in result.errors or []] == ["not for your role"]
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        ("boothgraph.graphql", "DEBUG", "answered FORBIDDEN: not for your role")
    ]


async def test_a_document_error_is_not_a_fault(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        result = await schema.execute("{ nothing }")
    assert result.errors
    assert caplog.records == []


async def test_a_fault_keeps_its_trace(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        result = await schema.execute("{ broken }")
    assert [e.message for e in result.errors or []] == ["a bug"]
    faults = [r for r in caplog.records if r.name == "strawberry.execution"]
    assert [r.levelname for r in faults] == ["ERROR"]
    assert faults[0].exc_info is not None
