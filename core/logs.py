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


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (`%(request_id)s` in text formats)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id.get()
        if rid and rid != "-":
            entry["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _STANDARD and key != "request_id":
                entry[key] = value
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
