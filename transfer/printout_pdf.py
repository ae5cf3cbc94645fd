"""The printed walk list and voter slips of a booth or page (docs/pages.md): pure rendering, rows in,
PDF bytes out (the data and its checks: transfer/printouts.py).

fpdf2 with HarfBuzz text shaping (`set_text_shaping(True)`, the uharfbuzz package) and Debian's
Noto Sans Devanagari, so conjuncts and matras are shaped; Latin text in DejaVu Sans. Speed (a booth
of 1,500 voters, bench/printouts.py): fpdf2's `cell()` costs about 0.1 ms, a shaped one more, and
only `cell()` shapes, so Devanagari goes through a shaped `cell()` and everything else through
`text()` (about 10 us), with the grid drawn as lines rather than cell borders.

Every shaped string is wrapped in a marked-content span carrying its text as /ActualText: with
shaping, a pre-base matra (ि) is drawn before its consonant cluster, and text extraction
(pdftotext, copy and paste) would otherwise put a space inside the word ("प्रि यंका").

No party name or symbol is printed anywhere, on slips least of all (the Model Code of Conduct).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF

FONT_DIRS = (Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/truetype/lohit-devanagari"))
DEVANAGARI_FONTS = ("NotoSansDevanagari-Regular.ttf", "Lohit-Devanagari.ttf")
LATIN_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DEVANAGARI = re.compile("[\u0900-\u097f\ua8e0-\ua8ff]")

GENDER = {"MALE": "M", "FEMALE": "F", "THIRD_GENDER": "TG"}
# What a shaped cell writes: text objects of absolutely positioned glyph runs (see _Document.shaped).
_NUMBER = rb"-?\d+(?:\.\d+)?"
_STRING = rb"\((?:[^\\()]|\\.)*\)"
_COLOUR = rb"(?:" + _NUMBER + rb"(?: " + _NUMBER + b" " + _NUMBER + rb")? (?:g|rg) )?"
_OBJECT = (
    rb"(?:q )?BT " + _NUMBER + b" " + _NUMBER + rb" Td " + _COLOUR + _STRING + rb" Tj"
    rb"(?: 1 0 0 1 " + _NUMBER + b" " + _NUMBER + rb" Tm " + _STRING + rb" Tj)* ET(?: Q)?\n"
)
REPLAYABLE = re.compile(rb"(?:" + _OBJECT + rb")+", re.S)
# A glyph string (left as it is) or a position (moved): strings first, so none is read as a position.
POSITION = re.compile(rb"(" + _STRING + rb")|(BT |1 0 0 1 )(" + _NUMBER + rb") (" + _NUMBER + rb") (Td|Tm)", re.S)


class FontsMissing(RuntimeError):
    """The Devanagari or Latin font is not installed (Debian: fonts-noto-core, fonts-dejavu-core)."""


@dataclass(frozen=True, slots=True)
class Booth:
    code: str
    name: str
    name_hi: str | None
    part: int | None  # the roll's part number: the digits ending the booth's code (B0012 -> 12)


@dataclass(frozen=True, slots=True)
class Entry:
    serial: int
    name: str
    name_hi: str | None
    relative_name: str | None
    age: int | None
    gender: str | None
    house_number: str | None
    household: str | None  # house_key: voters with the same one are printed together
    page: int


def devanagari_font() -> Path:
    for directory in FONT_DIRS:
        for name in DEVANAGARI_FONTS:
            if (directory / name).is_file():
                return directory / name
    raise FontsMissing("No Devanagari font: install fonts-noto-core (or fonts-lohit-deva)")


def part_of(code: str) -> int | None:
    digits = re.search(r"(\d+)$", code)
    return int(digits.group(1)) if digits else None


def households_in_roll_order(entries: Sequence[Entry]) -> list[list[Entry]]:
    """Households by their first voter's serial, members by serial; a voter without a house
    number is a household of their own."""
    groups: dict[str, list[Entry]] = {}
    for e in sorted(entries, key=lambda e: e.serial):
        groups.setdefault(e.household if e.household is not None else f"#{e.serial}", []).append(e)
    return sorted(groups.values(), key=lambda members: members[0].serial)


class _Document(FPDF):
    """Two fonts and the one rule: Devanagari shaped (and tagged), everything else plain."""

    def __init__(self, title_hi: str, title_en: str, booth: Booth, page: int | None) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        if not LATIN_FONT.is_file():
            raise FontsMissing(f"No Latin font at {LATIN_FONT}: install fonts-dejavu-core")
        self.add_font("deva", fname=str(devanagari_font()))
        self.add_font("latin", fname=str(LATIN_FONT))
        self.set_text_shaping(True)
        self.set_margins(10, 10, 10)
        self.set_auto_page_break(False)
        self.set_creator("boothgraph")
        self.set_title(f"{title_en} {booth.code}" + (f" P{page:02d}" if page is not None else ""))
        self.title_hi, self.title_en, self.booth, self.roll_page = title_hi, title_en, booth, page
        self._shaped: dict[tuple[str, float, float], tuple[bytes, float, float]] = {}
        self._widths: dict[tuple[str, float], float] = {}

    def shaped(self, x: float, y: float, w: float, h: float, text: str, size: float) -> None:
        """A Devanagari string, left-aligned in a cell `w` wide (words that do not fit are left
        out), shaped; its whole text as /ActualText for extraction.

        Drawn word by word, and a word shaped once is not shaped again: first names and surnames
        repeat, and a shaped `cell()` costs about half a millisecond (shaping never joins across
        a space). The operators a word's first `cell()` wrote (`BT x y Td (…) Tj` and, for
        positioned glyphs, `1 0 0 1 x y Tm (…) Tj`, all absolute) are replayed with their
        coordinates moved, after the font is set on the page as fpdf2 itself sets it. Operators of
        any other shape are never replayed (the word is shaped again)."""
        self.set_font("deva", size=size)
        if not self.current_font_is_set_on_page and self.current_font is not None:
            self._out(self._set_font_for_page(self.current_font, self.font_size_pt))
        self._out(f"/Span <</ActualText <FEFF{text.encode('utf-16-be').hex().upper()}>>> BDC")
        space, left = self._width(" ", size), x
        for word in text.split(" "):
            width = self._width(word, size)
            if left > x and left + width > x + w - 2 * self.c_margin:
                break
            if word:
                self._word(left, y, h, word, size)
            left += width + space
        self._out("EMC")

    def _width(self, word: str, size: float) -> float:
        key = (word, size)
        width = self._widths.get(key)
        if width is None:
            width = self._widths[key] = self.get_string_width(word)
        return width

    def _word(self, x: float, y: float, h: float, word: str, size: float) -> None:
        key = (word, size, h)
        cached = self._shaped.get(key)
        if cached is None:
            contents = self._contents()
            start = len(contents)
            self.set_xy(x, y)
            self.cell(0, h, word)
            ops = bytes(contents[start:])
            if REPLAYABLE.fullmatch(ops):
                self._shaped[key] = (ops, x, y)
            return
        ops, x0, y0 = cached
        dx, dy = (x - x0) * self.k, (y0 - y) * self.k

        def moved(m: re.Match[bytes]) -> bytes:
            if m[1] is not None:
                return m[1]
            return b"%s%.2f %.2f %s" % (m[2], float(m[3]) + dx, float(m[4]) + dy, m[5])

        # All text is black: the replay says so, whatever fill colour the page holds now.
        self._out("q 0 g")
        self._contents().extend(POSITION.sub(moved, ops))
        self._out("Q")

    def _contents(self) -> bytearray:
        """The current page's content stream, as fpdf2 keeps it while the page is open."""
        contents = self.pages[self.page].contents
        assert isinstance(contents, bytearray)
        return contents

    def plain(self, x: float, baseline: float, text: str, size: float, width: float | None = None) -> None:
        """Latin text at a baseline, cut to `width` (mm) when given."""
        self.set_font("latin", size=size)
        if width is not None and len(text) * size * 0.2 > width:  # cheap guard before measuring
            while text and self.get_string_width(text + "…") > width:
                text = text[:-1]
            text += "…"
        self.text(x, baseline, text)

    def any_text(self, x: float, y: float, w: float, h: float, text: str | None, size: float) -> None:
        """Latin or Devanagari, whichever the string is written in."""
        if not text:
            return
        if DEVANAGARI.search(text):
            self.shaped(x, y, w, h, text, size)
        else:
            self.plain(x + 1, y + h * 0.68, text, size, w - 2)


# ------------------------------------------------------------------------ walk list ---
COLUMNS = (  # (heading in Hindi, in English, width in mm)
    ("क्र.", "Sr", 11.0),
    ("", "Name", 40.0),
    ("नाम", "", 38.0),
    ("पिता/पति", "Relative", 36.0),
    ("आयु", "Age", 10.0),
    ("लिंग", "Sex", 10.0),
    ("मकान", "House", 14.0),
    ("टिप्पणी", "Notes", 31.0),
)
ROW_H = 6.4
HEAD_H = 9.0
HEAD_TOP = 10.0
TABLE_TOP = 27.0
BOTTOM = 287.0


def walk_list(booth: Booth, page: int | None, entries: Sequence[Entry]) -> bytes:
    """Voters in roll order, grouped by household (a heavier line between households, the house
    number on its first member), with a column for notes; a header on every sheet."""
    pdf = _Document("पैदल सूची", "Walk list", booth, page)
    rows_per_sheet = int((BOTTOM - TABLE_TOP - HEAD_H) // ROW_H)
    rows: list[tuple[Entry, bool]] = [
        (e, i == 0) for group in households_in_roll_order(entries) for i, e in enumerate(group)
    ]
    sheets = max(1, -(-len(rows) // rows_per_sheet))
    for sheet in range(sheets):
        chunk = rows[sheet * rows_per_sheet : (sheet + 1) * rows_per_sheet]
        _walk_sheet(pdf, sheet + 1, sheets, chunk, len(entries))
    return bytes(pdf.output())


def _walk_header(pdf: _Document, sheet: int, sheets: int, voters: int) -> None:
    booth, page = pdf.booth, pdf.roll_page
    pdf.shaped(10, HEAD_TOP, 60, 7, pdf.title_hi, 13)
    pdf.plain(40, HEAD_TOP + 5, pdf.title_en, 11)
    if booth.name_hi:
        pdf.shaped(70, HEAD_TOP, 130, 7, booth.name_hi, 11)
    part = f"Part {booth.part} · " if booth.part is not None else ""
    pages = f" · Roll page {page}" if page is not None else ""
    pdf.plain(10, HEAD_TOP + 11, f"{booth.name} · {booth.code} · {part}{voters} voters{pages}", 8.5, 150)
    pdf.plain(175, HEAD_TOP + 11, f"Sheet {sheet} / {sheets}", 8.5)


def _walk_sheet(pdf: _Document, sheet: int, sheets: int, rows: Sequence[tuple[Entry, bool]], voters: int) -> None:
    pdf.add_page()
    _walk_header(pdf, sheet, sheets, voters)
    xs = [10.0]
    for _, _, width in COLUMNS:
        xs.append(xs[-1] + width)
    # Column headings: Hindi shaped, English plain, in one row.
    pdf.set_fill_color(235, 235, 235)
    pdf.rect(10, TABLE_TOP, xs[-1] - 10, HEAD_H, style="F")
    pdf.set_fill_color(255, 255, 255)
    for (hi, en, width), x in zip(COLUMNS, xs, strict=False):  # Hindi above, English below
        if hi:
            pdf.shaped(x, TABLE_TOP, width, 5, hi, 8)
        if en:
            pdf.plain(x + 1, TABLE_TOP + HEAD_H - 1.6, en, 7)
    y = TABLE_TOP + HEAD_H
    pdf.set_line_width(0.15)
    for index, (entry, first) in enumerate(rows):
        if first:
            pdf.set_line_width(0.5)
            pdf.line(10, y, xs[-1], y)
            pdf.set_line_width(0.15)
        else:
            pdf.line(xs[1], y, xs[-2], y)  # members of one household: thin, and not across serial and notes
        base = y + ROW_H * 0.68
        pdf.plain(xs[0] + 1, base, str(entry.serial), 8)
        pdf.any_text(xs[1], y, COLUMNS[1][2], ROW_H, entry.name, 8)
        if entry.name_hi:  # a shaped cell centres a little higher than the Latin baseline: 0.5 mm down
            pdf.shaped(xs[2], y + 0.5, COLUMNS[2][2], ROW_H, entry.name_hi, 8.5)
        pdf.any_text(xs[3], y, COLUMNS[3][2], ROW_H, entry.relative_name, 7.5)
        if entry.age is not None:
            pdf.plain(xs[4] + 1, base, str(entry.age), 8)
        pdf.plain(xs[5] + 1, base, GENDER.get(entry.gender or "", ""), 8)
        if (first or index == 0) and entry.house_number:  # a household continued on a new sheet: again
            pdf.plain(xs[6] + 1, base, entry.house_number, 8, COLUMNS[6][2] - 2)
        y += ROW_H
    pdf.set_line_width(0.5)
    pdf.line(10, y, xs[-1], y)
    pdf.set_line_width(0.15)
    for x in xs:
        pdf.line(x, TABLE_TOP, x, y)
    pdf.line(10, TABLE_TOP, xs[-1], TABLE_TOP)


# --------------------------------------------------------------------------- slips ---
SLIP_W, SLIP_H = 95.0, 55.4
SLIPS_ACROSS, SLIPS_DOWN = 2, 5


def slips(booth: Booth, page: int | None, entries: Sequence[Entry]) -> bytes:
    """One slip per voter, ten to a sheet, in roll order: name (Hindi and English), serial, part
    and polling station. Nothing else: no party name, no symbol, no appeal."""
    pdf = _Document("मतदाता पर्ची", "Voter slip", booth, page)
    per_sheet = SLIPS_ACROSS * SLIPS_DOWN
    ordered = sorted(entries, key=lambda e: e.serial)
    for start in range(0, max(len(ordered), 1), per_sheet):
        pdf.add_page()
        pdf.set_draw_color(150, 150, 150)
        pdf.set_dash_pattern(dash=1.5, gap=1.5)
        pdf.line(10 + SLIP_W, 10, 10 + SLIP_W, 10 + SLIP_H * SLIPS_DOWN)
        for row in range(1, SLIPS_DOWN):
            pdf.line(10, 10 + row * SLIP_H, 10 + SLIP_W * SLIPS_ACROSS, 10 + row * SLIP_H)
        pdf.set_dash_pattern()
        pdf.set_draw_color(0, 0, 0)
        for i, entry in enumerate(ordered[start : start + per_sheet]):
            _slip(pdf, 10 + (i % SLIPS_ACROSS) * SLIP_W, 10 + (i // SLIPS_ACROSS) * SLIP_H, entry)
    return bytes(pdf.output())


def _slip(pdf: _Document, x: float, y: float, e: Entry) -> None:
    booth = pdf.booth
    pdf.shaped(x + 3, y + 2, 40, 7, pdf.title_hi, 11)
    pdf.plain(x + 33, y + 7, pdf.title_en, 9)
    if e.name_hi:
        pdf.shaped(x + 3, y + 11, SLIP_W - 6, 8, e.name_hi, 13)
    pdf.plain(x + 3, y + 23, e.name, 10, SLIP_W - 6)
    pdf.plain(x + 3, y + 31, f"Serial {e.serial}", 10)
    if booth.part is not None:
        pdf.plain(x + 45, y + 31, f"Part {booth.part}", 10)
    pdf.plain(x + 3, y + 38, "Polling station", 7.5)
    if booth.name_hi:
        pdf.shaped(x + 3, y + 39, SLIP_W - 6, 7, booth.name_hi, 9)
    pdf.plain(x + 3, y + 50, booth.name, 8, SLIP_W - 6)
