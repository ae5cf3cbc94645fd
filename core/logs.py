"""Log records as one JSON object per line (LOG_FORMAT=json) or as plain text, each carrying the
request id of the request it was written for (middleware/request_id.py sets it).

JSON fields: time (UTC, ISO 8601), level, logger, message, request_id (when inside a request),
the `extra={...}` fields a caller passed (the access log passes method, path, status, ...), and
the exception's traceback text under `exc_info` when there is one.
"""

from __future__ import annotations

import contextvars
import datetime
import logging
from typing import Any

import orjson

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# Attributes every LogRecord has: anything else on a record came from `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "color_message"}
_STANDARD_AND_ID = _STANDARD | {"request_id"}
# A plain record's attributes, with the request id and the formatted message: more means `extra=`.
_STANDARD_COUNT = len(vars(logging.LogRecord("", 0, "", 0, "", None, None))) + 2


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (`%(request_id)s` in text formats)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record. The access log writes one per request, so this is on the
    request path: the time's text is made once per second, and a record's `extra` fields are
    looked for only when the record has more attributes than a plain one (bench/README.md)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._second = -1
        self._second_text = ""

    def _time(self, created: float) -> str:
        second = int(created)
        if second != self._second:  # "2026-12-06T05:46:52" of this second, made once
            self._second = second
            self._second_text = datetime.datetime.fromtimestamp(second, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{self._second_text}.{int((created - second) * 1000):03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self._time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = vars(record)
        rid = fields.get("request_id") or request_id.get()
        if rid and rid != "-":
            entry["request_id"] = rid
        if len(fields) > _STANDARD_COUNT:  # some came from `extra=`; kept in the order given
            for key in [k for k in fields if k not in _STANDARD_AND_ID]:
                entry[key] = fields[key]
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def log_config(log_format: str, level: str = "INFO") -> dict[str, Any]:
    """A logging.config.dictConfig for uvicorn and our loggers: JSON or uvicorn's text lines,
    with the request id on every record."""
    from uvicorn.config import LOGGING_CONFIG

    formatter: dict[str, Any]
    if log_format == "json":
        formatter = {"()": "core.logs.JsonFormatter"}
        access_formatter = formatter
    else:
        formatter = LOGGING_CONFIG["formatters"]["default"]
        access_formatter = LOGGING_CONFIG["formatters"]["access"]
    handler = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "filters": ["request_id"]}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "core.logs.RequestIdFilter"}},
        "formatters": {"default": formatter, "access": access_formatter},
        "handlers": {
            "default": {**handler, "formatter": "default"},
            "access": {**handler, "formatter": "access", "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["access"], "level": level, "propagate": False},
            "boothgraph": {"handlers": ["default"], "level": level, "propagate": False},
        },
    }
