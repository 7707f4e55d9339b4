"""Gunicorn's logger with the same redaction as the application's logs (security.logging.redact):
the access log's request line, path and Referer, and the error log's "Error handling request
<uri>", never hold a manage link's token. Named in the Dockerfile (`--logger-class`)."""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.glogging import Logger

from security.logging import redact


class _Redacting(logging.Formatter):
    """Wraps a handler's formatter: the finished line (message, exception text) is redacted."""

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


class RedactingLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if not isinstance(handler.formatter, _Redacting):
                    handler.setFormatter(_Redacting(handler.formatter))
