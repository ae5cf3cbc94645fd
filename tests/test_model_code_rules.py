"""The Model Code's rules as data (policies/model_code.toml, policies/model_code.py): the shipped
file, what a file must hold, and edits picked up while running (a broken one keeps the last good)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from policies import model_code
from policies.model_code import SHIPPED, ModelCodeError, ModelCodeFile, parse


def test_shipped_rules_name_their_sources_in_both_languages() -> None:
    rules = parse(SHIPPED.read_text(encoding="utf-8"))
    assert list(rules) == ["BENEFIT_REGISTRATION", "CASTE_APPEAL", "SILENCE_PERIOD"]
    assert "2 May 2024" in rules["BENEFIT_REGISTRATION"].source
    assert "Section 126" in rules["SILENCE_PERIOD"].source and rules["SILENCE_PERIOD"].hours == 48
    assert all(r.title_hi and r.text_hi and r.stops for r in rules.values())
    assert rules["CASTE_APPEAL"].message().startswith("Model Code of Conduct in force: No call lists chosen by caste")


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (('code = "CASTE_APPEAL"', 'code = "OTHER"'), "lacks the rules CASTE_APPEAL"),
        (('window = "before_poll_close"', 'window = "sometimes"'), "window must be one of"),
        (("hours = 48", "hours = 0"), "hours must be between 1 and 168"),
        (('title_hi = "मतदान समाप्ति', 'nothing = "'), "title_hi is required"),
    ],
)
def test_a_file_without_what_it_needs_is_refused(change: tuple[str, str], why: str) -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    assert change[0] in text
    with pytest.raises(ModelCodeError, match=why):
        parse(text.replace(*change))


def test_edits_are_picked_up_and_a_broken_one_keeps_the_last_good(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(model_code, "RELOAD_S", 0.0)
    path = tmp_path / "model_code.toml"
    shutil.copy(SHIPPED, path)
    rules = ModelCodeFile(tmp_path)
    assert rules.path == path and rules.rule("SILENCE_PERIOD").hours == 48
    path.write_text(SHIPPED.read_text(encoding="utf-8").replace("hours = 48", "hours = 72"), encoding="utf-8")
    os.utime(path, (1, 1))  # a new stamp even within the same second
    assert rules.rule("SILENCE_PERIOD").hours == 72
    path.write_text("this is [ not toml", encoding="utf-8")
    assert rules.rule("SILENCE_PERIOD").hours == 72
    # A policy directory without the file uses the shipped one.
    assert ModelCodeFile(tmp_path / "elsewhere").path == SHIPPED
