"""The CSV scanner on its own (no database): record boundaries, physical lines, strictness."""

from __future__ import annotations

import re

import pytest

from transfer.csvscan import CsvFormatError, RecordScanner, parse_header
from transfer.patterns import cell_pattern, int_range
from transfer.spec import VOTERS, Column


def scan(data: bytes, chunk: int = 7, typed: bytes | None = None) -> tuple[RecordScanner, bytes]:
    header = parse_header(data, at_eof=True)
    scanner = RecordScanner(len(header.names), header.eol, header.lines + 1, typed)
    out = b""
    rest = data[header.end :]
    for i in range(0, len(rest), chunk):
        out += scanner.feed(rest[i : i + chunk])
    out += scanner.finish()
    assert out == rest  # everything forwarded, in order
    return scanner, out


@pytest.mark.parametrize("chunk", [1, 3, 7, 1 << 20])
def test_records_and_lines_across_chunks(chunk: int) -> None:
    data = b'a,b,c\r\n1,"x\r\ny",3\r\n4,5,6\r\n"7\n\n8",",",""""\r\n9,10,11'
    scanner, _ = scan(data, chunk)
    assert scanner.records == 4
    assert [scanner.linemap.line(i) for i in (1, 2, 3, 4)] == [2, 4, 5, 8]


def test_header_with_bom_and_quotes() -> None:
    header = parse_header(b'\xef\xbb\xbf"code",name\nUP,x\n', at_eof=True)
    assert header.names == ["code", "name"] and header.eol == b"\n" and header.lines == 1


@pytest.mark.parametrize(
    ("data", "line", "field", "reason"),
    [
        (b"a,b\n1,2\n3\n", 3, 1, "1 fields, the header has 2"),
        (b"a,b\n1,2\n3,4,5\n", 3, 2, "3 fields"),
        (b"a,b\n1,2\n\n3,4\n", 3, None, "an empty line"),
        (b'a,b\n1,"2\n3,4\n', 2, 1, "never closed"),
        (b'a,b\n1,2"x\n', 2, 1, "double quote inside an unquoted field"),
        (b'a,b\n1,"2"x\n', 2, 1, "text after the closing quote"),
        (b"a,b\n1,2\r\n", 2, None, "ends with CR LF, the header's with LF"),
        (b"a,b\r\n1,2\n", 2, None, "ends with LF, the header's with CR LF"),
        (b"a,b\n1,2\r3\n", 2, 1, "carriage return"),
        (b'a,b\n"x\ny",ok\n1,\xff\n', 4, 1, "not valid UTF-8"),
        (b"a,b\n1,ok\n2,o\x00k\n", 3, 1, "NUL"),
    ],
)
@pytest.mark.parametrize("chunk", [2, 1 << 20])
def test_malformed(data: bytes, line: int, field: int | None, reason: str, chunk: int) -> None:
    with pytest.raises(CsvFormatError) as info:
        scan(data, chunk)
    assert (info.value.line, info.value.field) == (line, field)
    assert reason in info.value.reason


def test_typed_pattern_vouches_only_for_clean_records() -> None:
    typed = b",".join(cell_pattern(c) for c in (Column("n", "int", low=18, high=120), Column("g", "text")))
    assert scan(b"n,g\n18,x\n120,y", typed=typed)[0].vouched
    assert not scan(b"n,g\n18,x\n121,y\n", typed=typed)[0].vouched
    assert not scan(b'n,g\n18,"x"\n', typed=typed)[0].vouched


def test_int_range_pattern_is_exact() -> None:
    for lo, hi in [(18, 120), (1, 2_147_483_647), (0, 9), (7, 1234)]:
        pattern = re.compile(int_range(lo, hi))
        for n in [*range(0, 1300), 999_999_999, 2_147_483_647, 2_147_483_648]:
            assert bool(pattern.fullmatch(str(n))) == (lo <= n <= hi), (lo, hi, n)


def test_voter_record_pattern_matches_generated_rows() -> None:
    from transfer.patterns import record_pattern

    # The contract's columns (a file without the optional `page` column, docs/pages.md).
    pattern = re.compile(record_pattern([c for c in VOTERS.columns if c.name != "page"]))
    row = "LLX3604800,UP-AWD-LKO-M01-B0001,1,Aman Diwakar,अमन दिवाकर,Hari Om,68,MALE,16,5473744938,SC,SC-01,BPL,GRANTED"
    assert pattern.fullmatch(row.encode())
    with_page = re.compile(record_pattern(list(VOTERS.columns)))
    assert with_page.fullmatch((row + ",7").encode()) and with_page.fullmatch((row + ",").encode())
    assert not with_page.fullmatch((row + ",0").encode())
    assert not pattern.fullmatch(row.replace(",68,", ",17,").encode())
    assert not pattern.fullmatch(row.replace("LLX", "LL1").encode())
