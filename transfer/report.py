"""What an import did: rows per file (new, changed, unchanged) and the units it touched."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FileCounts:
    rows: int = 0  # data records in the file
    inserted: int = 0
    updated: int = 0  # existing rows whose stored values changed

    @property
    def unchanged(self) -> int:
        return self.rows - self.inserted - self.updated


@dataclass
class ImportReport:
    files: dict[str, FileCounts] = field(default_factory=dict)  # "voters.csv" -> counts, in write order
    touched_unit_ids: list[int] = field(default_factory=list)  # every unit a row names, old places included
    touched_booth_ids: list[int] = field(default_factory=list)  # booths whose rollups were recounted
    moved_unit_ids: list[int] = field(default_factory=list)  # units given a new parent
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase, in order

    @property
    def records(self) -> int:
        return sum(c.rows for c in self.files.values())

    def detail(self) -> str:
        """Short text for the audit log: `units=12+3~1 voters=...` (rows, +new, ~changed)."""
        return " ".join(f"{name[:-4]}={c.rows}+{c.inserted}~{c.updated}" for name, c in self.files.items())

    def lines(self) -> list[str]:
        """One line per file, for the CLI."""
        return [
            f"{name}: {c.rows} rows, {c.inserted} new, {c.updated} changed, {c.unchanged} unchanged"
            for name, c in self.files.items()
        ]
