"""The Model Code of Conduct's rules as data (policies/model_code.toml): what each stops, when, and
its source, in English and Hindi. resolvers/model_code.py enforces them; this module only reads.

The file is read again when it changes on disk (checked at most every RELOAD_S); a broken edit
keeps the last good rules, as policy.csv does.
"""

from __future__ import annotations

import logging
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

RELOAD_S = 2.0
WINDOWS = ("model_code", "before_poll_close")
BENEFIT_REGISTRATION = "BENEFIT_REGISTRATION"
CASTE_APPEAL = "CASTE_APPEAL"
SILENCE_PERIOD = "SILENCE_PERIOD"
REQUIRED = (BENEFIT_REGISTRATION, CASTE_APPEAL, SILENCE_PERIOD)
SHIPPED = Path(__file__).resolve().parent / "model_code.toml"


@dataclass(frozen=True, slots=True)
class ModelCodeRule:
    code: str
    window: str
    hours: int
    stops: tuple[str, ...]
    title: str
    title_hi: str
    text: str
    text_hi: str
    source: str
    source_url: str | None

    def message(self) -> str:
        """What a refusal says: the rule, and where it comes from."""
        return f"Model Code of Conduct in force: {self.title} ({self.code}). {self.text} Source: {self.source}"


class ModelCodeError(ValueError):
    """The rules file is not usable."""


def parse(text: str) -> dict[str, ModelCodeRule]:
    data = tomllib.loads(text)
    rules: dict[str, ModelCodeRule] = {}
    for i, item in enumerate(data.get("rule", []), start=1):
        try:
            code, window = str(item["code"]), str(item["window"])
            if window not in WINDOWS:
                raise ModelCodeError(f"rule {i}: window must be one of {', '.join(WINDOWS)}")
            hours = int(item.get("hours", 0))
            if window == "before_poll_close" and not 0 < hours <= 24 * 7:
                raise ModelCodeError(f"rule {i}: hours must be between 1 and 168")
            rules[code] = ModelCodeRule(
                code=code,
                window=window,
                hours=hours,
                stops=tuple(str(s) for s in item.get("stops", [])),
                title=str(item["title"]),
                title_hi=str(item["title_hi"]),
                text=str(item["text"]),
                text_hi=str(item["text_hi"]),
                source=str(item["source"]),
                source_url=str(item["source_url"]) if item.get("source_url") else None,
            )
        except KeyError as exc:
            raise ModelCodeError(f"rule {i}: {exc.args[0]} is required") from None
    missing = [c for c in REQUIRED if c not in rules]
    if missing:
        raise ModelCodeError(f"model_code.toml lacks the rules {', '.join(missing)}")
    return rules


class ModelCodeFile:
    """The rules of `directory`/model_code.toml, or the shipped file when the directory has none."""

    def __init__(self, directory: Path | None = None) -> None:
        candidate = directory / "model_code.toml" if directory is not None else SHIPPED
        self.path = candidate if candidate.exists() else SHIPPED
        self._stamp: tuple[float, int] | None = None
        self._checked = 0.0
        self._rules = self._load()

    def _load(self) -> dict[str, ModelCodeRule]:
        stat = self.path.stat()
        rules = parse(self.path.read_text(encoding="utf-8"))
        self._stamp = (stat.st_mtime, stat.st_size)
        return rules

    @property
    def rules(self) -> dict[str, ModelCodeRule]:
        now = time.monotonic()
        if now - self._checked >= RELOAD_S:
            self._checked = now
            try:
                stat = self.path.stat()
                if (stat.st_mtime, stat.st_size) != self._stamp:
                    self._rules = self._load()
            except (OSError, ValueError):  # tomllib.TOMLDecodeError and ModelCodeError are ValueErrors
                log.exception("model_code.toml reload failed; keeping the previous rules")
        return self._rules

    def rule(self, code: str) -> ModelCodeRule:
        return self.rules[code]
