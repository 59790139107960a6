"""Structured JSON logs, one object per line, each carrying the request id of the request it
belongs to (``X-Request-ID``: taken from the caller when it is sane, else generated, and echoed).

>>> import logging as std
>>> record = std.LogRecord("ocrprep.server", std.INFO, __file__, 1, "hello %s", ("you",), None)
>>> import json; json.loads(JsonFormatter().format(record))["message"]
'hello you'
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
from contextvars import ContextVar
from typing import Any

__all__ = ["JsonFormatter", "configure_logging", "new_request_id", "request_id", "sane_request_id"]

#: The id of the request being served in this context ("" outside a request).
request_id: ContextVar[str] = ContextVar("ocrprep_request_id", default="")

_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def new_request_id() -> str:
    """A fresh random request id (16 hex digits)."""
    return secrets.token_hex(8)


def sane_request_id(value: str | None) -> str:
    """The caller's id when it is short and plain (no log injection), else a fresh one.

    Examples
    --------
    >>> sane_request_id("abc-123")
    'abc-123'
    >>> len(sane_request_id("bad\\nid"))
    16
    """
    if value and _SANE_ID.match(value):
        return value
    return new_request_id()


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object: time, level, logger, message, request_id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id.get()
        if rid:
            body["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in body and not key.startswith("_") and (
                key != "color_message"
            ):
                body[key] = value
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str, ensure_ascii=False)


def configure_logging(level: str = "info", stream: Any = None) -> None:
    """Send the ``ocrprep`` and ``uvicorn`` loggers to ``stream`` (stderr) as JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("ocrprep", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    # ocrprep writes its own access log with the request id; silence uvicorn's duplicate one
    logging.getLogger("uvicorn.access").handlers[:] = []
    logging.getLogger("uvicorn.access").propagate = False
