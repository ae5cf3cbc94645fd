"""GET /export/walklist.pdf and /export/slips.pdf through the real app (docs/pages.md): the
Hindi comes out of the PDF as it went in (pdftotext: conjuncts and matras), only the voters the
viewer may read are printed, each printout is audited as an export, slips carry nothing but
name, serial, part and polling station; pages render (pdftoppm)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import asyncpg
import pytest

from tests.dataset import load_folder
from tests.serverkit import bearer, client_for
from tests.writes_support import BOOTH_PRESIDENT_LKO_M01_B1, CALLER_LKO_M01_B1, LKO_M01_B1, MANDAL_PRESIDENT_LKO_M01

pytestmark = pytest.mark.skipif(
    subprocess.run(["which", "pdftotext"], capture_output=True).returncode != 0, reason="poppler-utils missing"
)
PAGE_INCHARGE = "u-pg-printer"


def pdf_text(pdf: bytes, tmp_path: Path, *args: str) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", *args, str(path), "-"], capture_output=True, check=True, text=True).stdout


@pytest.fixture
async def loaded(database_url: str, tiny_dataset: Path) -> str:
    conn = await asyncpg.connect(database_url)
    try:
        await load_folder(conn, tiny_dataset)
        await conn.execute("insert into users (id, name) values ($1, 'Page In-charge')", PAGE_INCHARGE)
        await conn.execute(
            "insert into assignments (user_id, role, unit_id, page) select $1, 'PAGE_INCHARGE', id, 2 from units "
            "where code = $2",
            PAGE_INCHARGE,
            LKO_M01_B1,
        )
    finally:
        await conn.close()
    return database_url


async def _voters(url: str, where: str = "true") -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch(
            f"""select v.* from voters v join units b on b.id = v.booth_id where b.code = $1 and {where}
                order by v.serial_number""",
            LKO_M01_B1,
        )
    finally:
        await conn.close()


async def test_the_walk_list_of_a_booth_in_hindi_and_english(loaded: str, tmp_path: Path) -> None:
    voters = await _voters(loaded)
    async with client_for(loaded, seeded=False) as client:
        r = await client.get(
            "/export/walklist.pdf", params={"unit": LKO_M01_B1}, headers=bearer(BOOTH_PRESIDENT_LKO_M01_B1)
        )
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/pdf"
        assert r.headers["content-disposition"] == f'attachment; filename="walklist-{LKO_M01_B1}.pdf"'
        assert r.headers["x-records"] == str(len(voters))
        text = pdf_text(r.content, tmp_path, "-raw")
        lines = text.splitlines()
        # Every voter, in roll order: serial, English name, Hindi name as typed (conjuncts, matras).
        positions = []
        for v in voters:
            row = f"{v['serial_number']} {v['name']} {v['name_hi']} "
            found = [i for i, line in enumerate(lines) if line.startswith(row)]
            assert found, row
            positions.append(found[0])
        assert positions == sorted(positions)
        assert any(re.search("[क-ह]्[क-ह]", v["name_hi"]) for v in voters)  # conjuncts were there to test
        assert any("ि" in v["name_hi"] for v in voters)  # and the pre-base matra
        assert "पैदल सूची" in text and "प्राथमिक विद्यालय हसनगंज, कक्ष 1" in text
        assert not any(v["phone"] and v["phone"] in text for v in voters)  # no phones on a walk list
        # Households together: a house number is printed once, on its first member's row.
        houses = [v["house_number"] for v in voters if v["house_number"]]
        assert sum(line.endswith(" 8") or " 8 " in line for line in lines[:12]) >= 1 or houses
        # Audited as an export of the booth, records = voters printed.
        conn = await asyncpg.connect(loaded)
        try:
            entry = await conn.fetchrow("select * from audit_log where action = 'data.export' order by id desc limit 1")
        finally:
            await conn.close()
        assert entry["user_id"] == BOOTH_PRESIDENT_LKO_M01_B1 and entry["unit_code"] == LKO_M01_B1
        assert entry["records"] == len(voters) and '"file":"walklist.pdf"' in entry["detail"]


async def test_a_page_incharge_prints_their_page_only(loaded: str, tmp_path: Path) -> None:
    page = await _voters(loaded, "v.page = 2")
    rest = await _voters(loaded, "v.page <> 2")
    async with client_for(loaded, seeded=False) as client:
        r = await client.get(
            "/export/walklist.pdf", params={"unit": LKO_M01_B1, "page": "2"}, headers=bearer(PAGE_INCHARGE)
        )
        assert r.status_code == 200, r.text
        assert r.headers["content-disposition"] == f'attachment; filename="walklist-{LKO_M01_B1}-P02.pdf"'
        text = pdf_text(r.content, tmp_path, "-raw")
        assert all(f"{v['serial_number']} {v['name']} {v['name_hi']} " in text for v in page)
        assert not any(re.search(rf"^{v['serial_number']} ", text, re.M) for v in rest)
        for params in ({"unit": LKO_M01_B1}, {"unit": LKO_M01_B1, "page": "3"}, {"unit": "UP-AWD-LKO-M01-B0002"}):
            r = await client.get("/export/walklist.pdf", params=params, headers=bearer(PAGE_INCHARGE))
            assert r.status_code == 404, params
            assert r.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_voter_slips_carry_name_serial_part_and_polling_station_only(loaded: str, tmp_path: Path) -> None:
    page = await _voters(loaded, "v.page = 2")
    async with client_for(loaded, seeded=False) as client:
        r = await client.get(
            "/export/slips.pdf", params={"unit": LKO_M01_B1, "page": "2"}, headers=bearer(BOOTH_PRESIDENT_LKO_M01_B1)
        )
        assert r.status_code == 200, r.text
    text = pdf_text(r.content, tmp_path, "-raw")
    allowed = {"मतदाता पर्ची", "Voter slip", "Polling station", "प्राथमिक विद्यालय हसनगंज, कक्ष 1",
               "Primary School Hasanganj, Room 1"}  # fmt: skip
    for v in page:
        allowed |= {v["name_hi"], v["name"], f"Serial {v['serial_number']}", "Part 1"}
        assert v["name_hi"] in text and f"Serial {v['serial_number']}" in text
    # Nothing else is printed: every line of text is made of the allowed pieces.
    pieces = sorted(allowed, key=len, reverse=True)
    for line in filter(None, (line.strip() for line in text.replace("\f", "\n").splitlines())):
        rest = line
        for piece in pieces:
            rest = rest.replace(piece, "")
        assert not rest.strip(), line
    assert not re.search(r"party|पार्टी|दल|symbol|चिह्न|vote for|वोट दें", text, re.I)


async def test_printed_pages_render(loaded: str, tmp_path: Path) -> None:
    async with client_for(loaded, seeded=False) as client:
        r = await client.get(
            "/export/walklist.pdf", params={"unit": LKO_M01_B1}, headers=bearer(BOOTH_PRESIDENT_LKO_M01_B1)
        )
    (tmp_path / "w.pdf").write_bytes(r.content)
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(tmp_path / "w.pdf"), str(tmp_path / "w")],
                   check=True)  # fmt: skip
    png = next(tmp_path.glob("w-*.png"))
    assert png.stat().st_size > 5_000
    info = subprocess.run(["pdfinfo", str(tmp_path / "w.pdf")], capture_output=True, text=True, check=True).stdout
    fonts = subprocess.run(["pdffonts", str(tmp_path / "w.pdf")], capture_output=True, text=True, check=True).stdout
    assert "Pages:" in info and "NotoSansDevanagari" in fonts and "DejaVuSans" in fonts


@pytest.mark.parametrize(
    ("user", "params", "status", "code"),
    [
        (BOOTH_PRESIDENT_LKO_M01_B1, {}, 400, "BAD_USER_INPUT"),
        (BOOTH_PRESIDENT_LKO_M01_B1, {"unit": LKO_M01_B1, "page": "x"}, 400, "BAD_USER_INPUT"),
        (BOOTH_PRESIDENT_LKO_M01_B1, {"unit": LKO_M01_B1, "page": "0"}, 400, "BAD_USER_INPUT"),
        (BOOTH_PRESIDENT_LKO_M01_B1, {"unit": "NOPE"}, 404, "NOT_FOUND"),
        (BOOTH_PRESIDENT_LKO_M01_B1, {"unit": "UP-AWD-LKO-M01"}, 404, "NOT_FOUND"),  # above: not visible
        (MANDAL_PRESIDENT_LKO_M01, {"unit": "UP-AWD-LKO-M01"}, 400, "BAD_USER_INPUT"),  # visible, no booth
        (CALLER_LKO_M01_B1, {"unit": LKO_M01_B1}, 403, "FORBIDDEN"),  # visible, no voter.read
    ],
)
async def test_printouts_refused(loaded: str, user: str, params: dict[str, str], status: int, code: str) -> None:
    async with client_for(loaded, seeded=False) as client:
        conn = await asyncpg.connect(loaded)
        try:
            before = await conn.fetchval("select count(*) from audit_log where action = 'data.export'")
            r = await client.get("/export/slips.pdf", params=params, headers=bearer(user))
            assert (r.status_code, r.json()["errors"][0]["extensions"]["code"]) == (status, code)
            assert await conn.fetchval("select count(*) from audit_log where action = 'data.export'") == before
        finally:
            await conn.close()
