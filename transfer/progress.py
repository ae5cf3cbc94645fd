"""Progress of long imports on stderr, when asked: bars (tqdm) on a terminal, and a plain line per
phase plus one every LINE_EVERY_S while a file is read when stderr is not a terminal (a log
file, a CI job, `docker logs`). The seconds each phase took are kept always
(ImportReport.phases), and every import in the server reports its phase and bytes read to
/metrics (core/metrics.py)."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from tqdm import tqdm

from core import metrics

LINE_EVERY_S = 10.0
MIB = 1024 * 1024


class LineBar:
    """tqdm's `update`/`close` for a file being read, written as a line every `every_s` seconds."""

    def __init__(self, name: str, total: int, out: TextIO | None, every_s: float) -> None:
        self.name, self.total, self.out, self.every_s = name, total, out, every_s
        self.done = 0
        self._next = time.monotonic() + every_s
        metrics.import_file(name, total)

    def update(self, n: int) -> None:
        self.done += n
        metrics.import_bytes(n)
        if self.out is not None and time.monotonic() >= self._next:
            self._next = time.monotonic() + self.every_s
            share = 100 * self.done / self.total if self.total else 100.0
            self.out.write(
                f"import: reading {self.name} {share:.0f}% ({self.done / MIB:.1f} of {self.total / MIB:.1f} MiB)\n"
            )
            self.out.flush()

    def close(self) -> None:
        pass


class _CountedBar:
    """A tqdm bar that also reports the bytes read to /metrics."""

    def __init__(self, bar: Any, name: str, total: int) -> None:
        self.bar = bar
        metrics.import_file(name, total)

    def update(self, n: int) -> None:
        metrics.import_bytes(n)
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()


class Progress:
    def __init__(self, enabled: bool, *, out: TextIO | None = None, every_s: float = LINE_EVERY_S) -> None:
        out = out if out is not None else sys.stderr
        self.bars = enabled and out.isatty()
        self.lines: TextIO | None = out if enabled and not self.bars else None
        self.out = out
        self.every_s = every_s
        self._steps: Any = None
        self.phases: dict[str, float] = {}
        self._phase: tuple[str, float] | None = None
        self._began = time.perf_counter()
        metrics.import_started()

    @property
    def enabled(self) -> bool:
        return self.bars or self.lines is not None

    def bytes_bar(self, name: str, total: int) -> Any:
        if not self.bars:
            return LineBar(name, total, self.lines, self.every_s)
        bar = tqdm(total=total, desc=name, unit="B", unit_scale=True, unit_divisor=1024, file=self.out, leave=False)
        return _CountedBar(bar, name, total)

    def step(self, what: str) -> None:
        """Start the next phase (reading voters.csv, checking, writing voters, ...)."""
        self._end_phase()
        self._phase = (what, time.perf_counter())
        metrics.import_phase(what)
        if self.lines is not None:
            self.lines.write(f"import: {what} ({time.perf_counter() - self._began:.1f} s)\n")
            self.lines.flush()
        if not self.bars:
            return
        if self._steps is None:
            self._steps = tqdm(desc="import", bar_format="{desc}: {postfix} [{elapsed}]", file=self.out)
        self._steps.set_postfix_str(what)

    def _end_phase(self) -> None:
        if self._phase is not None:
            what, began = self._phase
            self.phases[what] = round(self.phases.get(what, 0.0) + time.perf_counter() - began, 3)
            self._phase = None

    def close(self) -> None:
        self._end_phase()
        metrics.import_finished()
        if self._steps is not None:
            self._steps.close()
            self._steps = None
