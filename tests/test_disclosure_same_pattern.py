"""The faster search (resolvers/disclosure.py) decides exactly the pattern of the one it replaced
(tests/disclosure_reference.py): the same suppressed, protected and degenerate cells, on random
tables, on tables large enough to climb to districts and the state, with the candidate cap falling
inside a search, and on the generated `small` preset's booth counts."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolvers import disclosure
from resolvers.release import caste_key_tree
from tests import disclosure_reference as reference
from tests.conftest import GEN_DATASET
from tests.dataset import read_csv
from tests.test_disclosure_pure import tables


def assert_same(
    unit_parent: dict, key_parent: dict, counts: dict, min_cell: int, floor: dict | None = None
) -> disclosure.Pattern:
    args = {"unit_parent": unit_parent, "key_parent": key_parent, "booth_counts": counts, "min_cell": min_cell}
    new = disclosure.protect(**args, floor=floor)
    old = reference.protect(**args, floor=floor)
    assert new.counts == old.counts
    assert new.suppressed == old.suppressed
    assert new.protected == old.protected
    assert new.degenerate == old.degenerate
    assert new.primaries == old.primaries
    return new


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(tables(), st.sampled_from((3, 5)))
def test_random_tables_get_the_same_pattern(table, min_cell: int) -> None:
    units, keys, counts = table
    assert_same(units, keys, counts, min_cell)


def wide_table(seed: int) -> tuple[dict, dict, dict]:
    """3 districts x 4 mandals x 8 booths; 3 categories of 6 castes, a few castes rare (so that
    their cells are protected only by a booth in another mandal or district, or not at all)."""
    rng = random.Random(seed)
    units: dict[str, str | None] = {"S": None}
    keys: dict[tuple[str, str], tuple[str, str] | None] = {}
    counts: dict[tuple[str, tuple[str, str]], int] = {}
    booths = []
    for d in range(3):
        units[f"S{d}"] = "S"
        for m in range(4):
            units[f"S{d}{m}"] = f"S{d}"
            for b in range(8):
                units[f"S{d}{m}{b:02}"] = f"S{d}{m}"
                booths.append(f"S{d}{m}{b:02}")
    for c in ("GEN", "OBC", "SC"):
        keys[("caste_category", c)] = None
        for k in range(6):
            keys[("caste", f"{c}-{k}")] = ("caste_category", c)
    for b in booths:
        for key, parent in keys.items():
            if parent is None:
                continue
            rare = key[1].endswith(("-4", "-5"))
            n = rng.choice((0, 0, 0, 0, 0, 0, 1, 2)) if rare else rng.choice((0, 1, 2, 3, 6, 9, 15, 30))
            if n:
                counts[(b, key)] = n
                counts[(b, parent)] = counts.get((b, parent), 0) + n
    return units, keys, counts


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_tables_that_climb_to_the_state_get_the_same_pattern(seed: int) -> None:
    units, keys, counts = wide_table(seed)
    pattern = assert_same(units, keys, counts, 5)
    assert pattern.primaries > 100


@pytest.mark.parametrize("seed", [5, 6])
def test_floors_of_turnout_releases_get_the_same_pattern(seed: int) -> None:
    """With floors (what was shown before, resolvers/turnout_release.py) a certificate's width is
    the room above them: the same rule in both searches."""
    units, keys, counts = wide_table(seed)
    rng = random.Random(seed)
    floor = {cell: max(0, n - rng.choice((0, 1, 3, 6, 20))) for cell, n in counts.items()}
    assert_same(units, keys, counts, 5, floor)


@pytest.mark.parametrize("cap", [1, 7, 60, 500])
def test_the_candidate_cap_falls_in_the_same_place(monkeypatch: pytest.MonkeyPatch, cap: int) -> None:
    monkeypatch.setattr(disclosure, "CANDIDATE_CAP", cap)
    monkeypatch.setattr(reference, "CANDIDATE_CAP", cap)
    units, keys, counts = wide_table(4)
    assert_same(units, keys, counts, 5)


def test_the_small_preset_gets_the_same_pattern(tmp_path: Path) -> None:
    """The booth counts a release reads (unit_rollups: nonzero, keys not NULL), of gen_dataset.py's
    `small` preset (100k voters, 106 booths), both tables as resolvers/release.py builds them."""
    cmd = [sys.executable, str(GEN_DATASET), "--preset", "small", "--out", str(tmp_path)]
    subprocess.run(cmd, check=True, capture_output=True)
    unit_parent = {u["code"]: u["parent_code"] or None for u in read_csv(tmp_path, "units.csv")}
    caste: dict = {}
    economic: dict = {}
    for v in read_csv(tmp_path, "voters.csv"):
        for dim, table in (("caste_category", caste), ("caste", caste), ("economic_status", economic)):
            if v[dim]:
                cell = (v["booth_code"], (dim, v[dim]))
                table[cell] = table.get(cell, 0) + 1
    pattern = assert_same(unit_parent, caste_key_tree(caste), caste, 5)
    assert len(pattern.suppressed) > 1000
    assert_same(unit_parent, {k: None for _, k in economic}, economic, 5)
