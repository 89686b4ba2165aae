"""JSON log lines. Only fields we put there: no request bodies, no note text."""

from __future__ import annotations

import json
import logging
import logging.handlers
import time
from pathlib import Path

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({key: value for key, value in vars(record).items() if key not in _STANDARD})
        if record.exc_info and record.exc_info[0] is not None:
            # The exception type only: tracebacks and messages can quote request data.
            entry["exception"] = record.exc_info[0].__name__
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True


def configure_audit(level: str, path: Path | None) -> None:
    """The audit trail's own level (independent of ``log_level``) and, optionally, its own file.

    With a file, audit lines go there only (appended; re-opened when logrotate moves it away);
    without, to stderr with the other logs. ``off`` writes none. OSError when the file cannot be opened.
    """
    audit = logging.getLogger("clinx.audit")
    audit.disabled = level == "off"
    audit.setLevel(logging.CRITICAL if level == "off" else level.upper())
    audit.handlers[:] = []
    audit.propagate = path is None
    if path is not None:
        handler = logging.handlers.WatchedFileHandler(path, encoding="utf-8")
        handler.setFormatter(JsonFormatter())
        audit.addHandler(handler)
