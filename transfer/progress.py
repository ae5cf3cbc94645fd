"""Progress bars on stderr (tqdm) for long imports, silent unless asked and stderr is a
terminal; and the seconds each phase took, always (ImportReport.phases)."""

from __future__ import annotations

import sys
import time
from typing import Any

from tqdm import tqdm


class Progress:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self._steps: Any = None
        self.phases: dict[str, float] = {}
        self._phase: tuple[str, float] | None = None

    def bytes_bar(self, name: str, total: int) -> Any:
        return tqdm(
            total=total,
            desc=name,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            file=sys.stderr,
            disable=not self.enabled,
            leave=False,
        )

    def step(self, what: str) -> None:
        """Start the next phase (reading voters.csv, checking, writing voters, ...)."""
        self._end_phase()
        self._phase = (what, time.perf_counter())
        if not self.enabled:
            return
        if self._steps is None:
            self._steps = tqdm(desc="import", bar_format="{desc}: {postfix} [{elapsed}]", file=sys.stderr)
        self._steps.set_postfix_str(what)

    def _end_phase(self) -> None:
        if self._phase is not None:
            what, began = self._phase
            self.phases[what] = round(self.phases.get(what, 0.0) + time.perf_counter() - began, 3)
            self._phase = None

    def close(self) -> None:
        self._end_phase()
        if self._steps is not None:
            self._steps.close()
            self._steps = None
