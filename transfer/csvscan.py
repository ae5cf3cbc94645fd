"""Strict RFC 4180 checking of a CSV byte stream on its way to PostgreSQL's COPY.

PostgreSQL parses CSV fast but leniently (a quote inside an unquoted field opens a quoted
section, `"a"b` is read as `ab`) and its error lines are where a record ends, not where it
starts. So the bytes pass through `RecordScanner` first: it forwards only whole, well-formed
records, checks UTF-8, field counts and line breaks, and remembers which records span more
than one physical line (`LineMap`), so that a record's ordinal in the staging table maps back
to the physical line where it starts. Chunks without a double quote are checked with one
regular-expression match each; only chunks holding quotes are walked record by record.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left
from dataclasses import dataclass

QUOTE, COMMA, CR, LF = 0x22, 0x2C, 0x0D, 0x0A
BOM = b"\xef\xbb\xbf"
MAX_RECORD = 16 << 20  # bytes; a longer record is almost surely a quote that is never closed

_QFIELD = re.compile(rb'"[^"]*+(?:""[^"]*+)*+"')
_UFIELD = re.compile(rb'[^,"\r\n]*+')
_FIELD = rb'(?:"[^"]*+(?:""[^"]*+)*+"|[^,"\r\n]*+)'
_PLAIN = rb'[^,"\r\n]*+'


class CsvFormatError(Exception):
    """A malformed record: the physical line where it starts, the 0-based field, what is wrong."""

    def __init__(self, line: int, field: int | None, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line, self.field, self.reason = line, field, reason


class _Bad(Exception):
    def __init__(self, field: int | None, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = field, reason


def _eol_name(eol: bytes) -> str:
    return "CR LF" if eol == b"\r\n" else "LF"


def _record(
    buf: bytes, pos: int, end: int, final: bool, eol: bytes | None, spans: list[tuple[int, int]] | None = None
) -> tuple[int, int, bytes] | None:
    """Walk one record of buf[pos:end]: (fields, offset after its line break, the line break,
    b"" for a last record without one). None when it runs past `end` and more data may come.
    Raises _Bad for a malformed record. `spans` collects each field's (start, stop)."""
    n, p = 0, pos
    while True:
        start = p
        quoted = p < end and buf[p] == QUOTE
        if quoted:
            m = _QFIELD.match(buf, p, end)
            if m is None:
                if final:
                    raise _Bad(n, "a quoted field is never closed")
                return None
            p = m.end()
        else:
            match = _UFIELD.match(buf, p, end)
            assert match is not None  # the pattern matches the empty string
            p = match.end()
        if spans is not None:
            spans.append((start, p))
        n += 1
        if p >= end:
            return (n, p, b"") if final else None
        c = buf[p]
        if c == COMMA:
            p += 1
            continue
        if c == LF:
            brk, p = b"\n", p + 1
        elif c == CR:
            if p + 1 >= end and not final:
                return None
            if p + 1 >= end or buf[p + 1] != LF:
                raise _Bad(n - 1, "a carriage return outside quotes")
            brk, p = b"\r\n", p + 2
        elif quoted:
            raise _Bad(n - 1, "text after the closing quote of a quoted field")
        else:
            raise _Bad(n - 1, "a double quote inside an unquoted field (quote the field and double the quote)")
        if eol is not None and brk != eol:
            raise _Bad(None, f"the line ends with {_eol_name(brk)}, the header's with {_eol_name(eol)}")
        return n, p, brk


def unquote(raw: bytes) -> bytes:
    if raw[:1] == b'"':
        return raw[1:-1].replace(b'""', b'"')
    return raw


@dataclass(frozen=True)
class Header:
    names: list[str]
    end: int  # offset of the first data byte
    eol: bytes  # b"\n" or b"\r\n", as the header's own line ends
    lines: int  # physical lines the header takes (1 unless a name holds a line break)


def parse_header(head: bytes, at_eof: bool) -> Header:
    """The header record at the start of `head` (the file's first bytes; `at_eof` when that is
    the whole file). A UTF-8 byte order mark is skipped."""
    pos = len(BOM) if head.startswith(BOM) else 0
    if pos >= len(head):
        raise CsvFormatError(1, None, "the file is empty; expected a header row")
    spans: list[tuple[int, int]] = []
    try:
        rec = _record(head, pos, len(head), at_eof, None, spans)
    except _Bad as bad:
        raise CsvFormatError(1, None, f"header: {bad.reason}") from None
    if rec is None:
        raise CsvFormatError(1, None, "the header row is longer than 1 MiB")
    _, end, brk = rec
    try:
        names = [unquote(head[a:b]).decode("utf-8") for a, b in spans]
    except UnicodeDecodeError:
        raise CsvFormatError(1, None, "header: not valid UTF-8") from None
    return Header(names, end, brk or b"\r\n", 1 + head.count(b"\n", pos, end) - (1 if brk else 0))


class LineMap:
    """Data record ordinal (1 = first record after the header) -> physical line where it starts.
    Only records holding line breaks inside quotes are stored, 16 bytes each."""

    def __init__(self, first_line: int) -> None:
        self.first_line = first_line
        self._records = array("q")
        self._extra = array("q")
        self._total = 0

    def add(self, record: int, extra_lines: int) -> None:
        self._total += extra_lines
        self._records.append(record)
        self._extra.append(self._total)

    def line(self, record: int) -> int:
        i = bisect_left(self._records, record)
        return self.first_line + record - 1 + (self._extra[i - 1] if i else 0)


class RecordScanner:
    """Checks the data records after the header, chunk by chunk; `feed` and `finish` return the
    bytes that are safe to forward (whole, well-formed records only)."""

    def __init__(self, ncols: int, eol: bytes, first_line: int, typed: bytes | None = None) -> None:
        """`typed`: a pattern for one record whose match proves its cells valid (patterns.py)."""
        self.ncols, self.eol = ncols, eol
        self.records = 0  # data records accepted so far
        self.line = first_line  # physical line where the next record starts
        self.linemap = LineMap(first_line)
        self.vouched = typed is not None  # every record so far matched `typed`
        self._carry = b""
        tail = re.escape(eol)
        self._plain = re.compile(rb"(?:(?:%s,){%d}%s%s)*+" % (_PLAIN, ncols - 1, _PLAIN, tail))
        self._rec = re.compile(rb"(?:%s,){%d}%s%s" % (_FIELD, ncols - 1, _FIELD, tail))
        self._typed = re.compile(rb"(?:%s%s)*+" % (typed, tail)) if typed else None
        self._typed_last = re.compile(typed) if typed else None

    def feed(self, data: bytes) -> bytes:
        buf = self._carry + data if self._carry else data
        cut = buf.rfind(b"\n") + 1
        done = self._scan(buf, cut, final=False) if cut else 0
        self._carry = buf[done:]
        if len(self._carry) > MAX_RECORD:
            raise CsvFormatError(self.line, None, "a record longer than 16 MiB (a quote never closed?)")
        return buf[:done]

    def finish(self) -> bytes:
        buf, self._carry = self._carry, b""
        if buf:
            self._scan(buf, len(buf), final=True)
        return buf

    # ------------------------------------------------------------------ internals ---
    def _scan(self, buf: bytes, end: int, final: bool) -> int:
        line0 = self.line
        plain = buf.find(b'"', 0, end) < 0  # no quoted field: one record per line
        if self.vouched:
            typed = self._typed_last if final else self._typed
            self.vouched = bool(plain and typed and typed.fullmatch(buf, 0, end))
        if plain and not final and (self.vouched or self._plain.fullmatch(buf, 0, end)):
            n = buf.count(b"\n", 0, end)
            self.records += n
            self.line += n
            done = end
        else:
            done = self._walk(buf, 0, end, final)
        self._check_bytes(buf, done, line0)
        return done

    def _walk(self, buf: bytes, p: int, end: int, final: bool) -> int:
        match = self._rec.match
        while p < end:
            m = match(buf, p, end)
            if m is not None:
                q, brk = m.end(), self.eol
            else:
                try:
                    rec = _record(buf, p, end, final, self.eol)
                except _Bad as bad:
                    raise CsvFormatError(self.line, bad.field, bad.reason) from None
                if rec is None:
                    break
                n, q, brk = rec
                if n != self.ncols:
                    if n == 1 and q - p == len(brk):
                        raise CsvFormatError(self.line, None, "an empty line")
                    raise CsvFormatError(
                        self.line,
                        min(n, self.ncols),
                        f"{n} fields, the header has {self.ncols}",
                    )
            newlines = buf.count(b"\n", p, q)
            self.records += 1
            extra = newlines - (1 if brk else 0)
            if extra:
                self.linemap.add(self.records, extra)
            self.line += newlines
            p = q
        return p

    def _check_bytes(self, buf: bytes, done: int, line0: int) -> None:
        """UTF-8 and no NUL bytes in buf[:done] (PostgreSQL refuses NUL in text)."""
        bad, reason = buf.find(b"\x00", 0, done), "a NUL byte"
        try:
            str(buf[:done] if bad < 0 else buf[:bad], "utf-8")
        except UnicodeDecodeError as exc:
            bad, reason = exc.start, "not valid UTF-8"
        if bad >= 0:
            line, field = self._locate(buf, bad, line0)
            raise CsvFormatError(line, field, reason)

    def _locate(self, buf: bytes, offset: int, line: int) -> tuple[int, int | None]:
        """Start line and field of the (already checked) record holding byte `offset`."""
        p = 0
        while True:
            spans: list[tuple[int, int]] = []
            rec = _record(buf, p, len(buf), True, None, spans)
            assert rec is not None
            if rec[1] > offset:
                field = next((i for i, (_, stop) in enumerate(spans) if offset < stop), None)
                return line, field
            line += buf.count(b"\n", p, rec[1])
            p = rec[1]
