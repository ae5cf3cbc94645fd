"""The policy engine on its own: no database, a tree described inline."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from core.viewer import AssignedRole, UnitPlace, Viewer
from models import Level
from policies import PERMISSIONS, PolicyEngine
from policies.engine import POLICY_DIR
from policies.role_manager import ancestor_paths

UP = UnitPlace(1, "UP", Level.STATE, "UP", (1, None, None, None, None))
AWD = UnitPlace(2, "UP-AWD", Level.REGION, "UP/UP-AWD", (1, 2, None, None, None))
LKO = UnitPlace(3, "LKO", Level.DISTRICT, "UP/UP-AWD/LKO", (1, 2, 3, None, None))
LKO2 = UnitPlace(4, "LKO2", Level.DISTRICT, "UP/UP-AWD/LKO2", (1, 2, 4, None, None))
M1 = UnitPlace(5, "LKO-M1", Level.MANDAL, "UP/UP-AWD/LKO/LKO-M1", (1, 2, 3, 5, None))
B1 = UnitPlace(6, "LKO-M1-B1", Level.BOOTH, "UP/UP-AWD/LKO/LKO-M1/LKO-M1-B1", (1, 2, 3, 5, 6))
B2 = UnitPlace(7, "LKO2-M1-B1", Level.BOOTH, "UP/UP-AWD/LKO2/LKO2-M1/LKO2-M1-B1", (1, 2, 4, 8, 7))


def viewer(*held: tuple[str, UnitPlace], user: str = "u-1") -> Viewer:
    return Viewer(
        user, "Test", tuple(AssignedRole(i, role, place, place.code, None) for i, (role, place) in enumerate(held))
    )


def test_ancestor_paths_match_whole_segments() -> None:
    assert ancestor_paths("UP/UP-AWD/LKO") == ["UP", "UP/UP-AWD", "UP/UP-AWD/LKO"]
    engine = PolicyEngine()
    president = viewer(("DISTRICT_PRESIDENT", LKO))
    assert engine.enforce(president, B1.path, "voter.read")
    assert not engine.enforce(president, B2.path, "voter.read")  # LKO must not match LKO2
    assert not engine.enforce(president, AWD.path, "voter.read")  # grants reach down, never up


def test_default_matrix_is_loaded_from_policy_csv() -> None:
    engine = PolicyEngine()
    caller = viewer(("CALLER", B1))
    convenor = viewer(("DISTRICT_CONVENOR", LKO))
    assert engine.permissions(caller) == ["outreach.call"]
    assert engine.permissions(convenor) == [
        "unit.read", "stats.read", "voter.read", "voter.read_contact", "voter.read_sensitive",
        "voter.write", "data.import", "data.export", "outreach.manage",
    ]  # fmt: skip
    assert engine.rank("STATE_PRESIDENT") == 100 and engine.rank("CALLER") == 10
    assert engine.allowed_levels("IT_CONVENOR") == {Level.STATE, Level.DISTRICT}
    assert engine.allowed_levels("CALLER") == {Level.DISTRICT, Level.MANDAL, Level.BOOTH}
    assert set(engine.known_permissions()) == set(PERMISSIONS)


def test_turnout_mark_is_the_booth_teams_only() -> None:
    """Issue 16: the booth's team marks turnout: the booth president over the booth, a page in-charge
    over their roll page. Not CALLER: held at a district or a mandal it would reach far beyond a booth."""
    engine = PolicyEngine()
    holders = {role for role, act in ((r[0], r[1]) for r in engine._enforcer.get_policy()) if act == "turnout.mark"}
    assert holders == {"BOOTH_PRESIDENT", "PAGE_INCHARGE"}
    page = B1.at_page(7)
    assert engine.cover(viewer(("PAGE_INCHARGE", page)), "turnout.mark").units == (page,)
    assert engine.cover(viewer(("BOOTH_PRESIDENT", B1)), "turnout.mark").units == (B1,)
    for role, place in (("CALLER", B1), ("CALLER", LKO), ("MANDAL_PRESIDENT", M1), ("STATE_PRESIDENT", UP)):
        assert engine.cover(viewer((role, place)), "turnout.mark").empty, role


def test_cover_drops_units_inside_another() -> None:
    engine = PolicyEngine()
    both = viewer(("DISTRICT_PRESIDENT", LKO), ("MANDAL_PRESIDENT", M1), ("BOOTH_PRESIDENT", B2))
    assert engine.cover(both, "voter.read").units == (LKO, B2)
    # read_contact comes only from the mandal and the booth assignments
    assert engine.cover(both, "voter.read_contact").units == (M1, B2)
    assert engine.cover(both, "audit.read").empty
    assert engine.cover(viewer(), "unit.read").empty
    state = viewer(("STATE_PRESIDENT", UP))
    assert engine.cover(state, "stats.read").everything


def test_revoked_assignment_stops_working_on_the_next_viewer() -> None:
    engine = PolicyEngine()
    before = viewer(("DISTRICT_PRESIDENT", LKO))
    assert engine.allows(before, "voter.read", B1)
    after = viewer()  # the same user, read again from the database after the revoke
    assert not engine.allows(after, "voter.read", B1)
    assert not engine.enforce(after, B1.path, "voter.read")


def test_policy_file_change_is_picked_up_without_restart(tmp_path: Path) -> None:
    for name in ("model.conf", "policy.csv"):
        shutil.copy(POLICY_DIR / name, tmp_path / name)
    engine = PolicyEngine(tmp_path)
    president = viewer(("DISTRICT_PRESIDENT", LKO))
    assert not engine.allows(president, "voter.read_contact", B1)
    assert not engine.reload_if_changed()
    time.sleep(0.01)
    with (tmp_path / "policy.csv").open("a") as f:
        f.write("p, DISTRICT_PRESIDENT, voter.read_contact\n")
    assert engine.reload_if_changed()
    assert engine.allows(president, "voter.read_contact", B1)


def test_the_request_path_looks_at_the_files_at_most_once_per_bound(tmp_path: Path) -> None:
    """reload_if_stale (POLICY_FILE_CHECK_S): no stat within the bound after the last look; an
    edit counts at the first call after it; 0 looks every time."""
    for name in ("model.conf", "policy.csv"):
        shutil.copy(POLICY_DIR / name, tmp_path / name)
    engine = PolicyEngine(tmp_path)
    president = viewer(("DISTRICT_PRESIDENT", LKO))
    assert not engine.reload_if_changed()  # looked just now
    with (tmp_path / "policy.csv").open("a") as f:
        f.write("p, DISTRICT_PRESIDENT, voter.read_contact\n")
    assert not engine.reload_if_stale(3600)  # within the bound: the files are not looked at
    assert not engine.allows(president, "voter.read_contact", B1)
    assert engine.reload_if_stale(0)
    assert engine.allows(president, "voter.read_contact", B1)
    assert not engine.reload_if_stale(0)  # looked, nothing changed


def test_role_inheritance_lives_in_the_star_domain(tmp_path: Path) -> None:
    for name in ("model.conf", "policy.csv"):
        shutil.copy(POLICY_DIR / name, tmp_path / name)
    with (tmp_path / "policy.csv").open("a") as f:
        f.write("g, DISTRICT_PRESIDENT, DISTRICT_CONVENOR, *\n")
    engine = PolicyEngine(tmp_path)
    assert engine.allows(viewer(("DISTRICT_PRESIDENT", LKO)), "voter.read_sensitive", B1)
    assert not engine.allows(viewer(("DISTRICT_PRESIDENT", LKO)), "voter.read_sensitive", B2)


def test_a_broken_policy_edit_keeps_the_last_good_policy(tmp_path: Path) -> None:
    for name in ("model.conf", "policy.csv"):
        shutil.copy(POLICY_DIR / name, tmp_path / name)
    engine = PolicyEngine(tmp_path)
    time.sleep(0.01)
    with (tmp_path / "policy.csv").open("a") as f:
        f.write("g, DISTRICT_PRESIDENT, DISTRICT_CONVENOR, UP/UP-AWD\n")  # domain other than "*"
    assert not engine.reload_if_changed()
    assert engine.allows(viewer(("DISTRICT_PRESIDENT", LKO)), "voter.read", B1)


def test_bulk_load_of_many_assignments() -> None:
    engine = PolicyEngine()
    rows = [(f"u-{i}", "BOOTH_PRESIDENT", f"UP/R{i % 6}/D{i % 98}/M{i % 1900}/B{i}") for i in range(180_000)]
    engine.load_assignments(rows)  # one dict pass; Casbin's add_link one by one is quadratic
    assert len(engine.users) == 180_000
    assert engine.allows(viewer(("BOOTH_PRESIDENT", B1), user="u-7"), "voter.read", B1)


@pytest.mark.parametrize("role", ["STATE_PRESIDENT", "DISTRICT_CONVENOR", "CALLER"])
def test_decisions_are_cached_per_links_and_permission(role: str) -> None:
    engine = PolicyEngine()
    v = viewer((role, UP if role == "STATE_PRESIDENT" else LKO))
    first = engine.cover(v, "voter.read")
    assert engine.cover(v, "voter.read") is first
