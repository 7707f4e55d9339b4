"""WSGI-level guard for input Django rejects before any middleware can answer.

Django parses the Content-Type header while building the request object, outside its error
handling: a header such as `application/json; charset*=x''y` raises ValueError there and the
client gets a bare 500. Any client can send that, so the header is checked first and an
unparseable one is replaced by a neutral type; the view then refuses the body normally (415/400).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.utils.http import parse_header_parameters

logger = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def guard_malformed_headers(app: WSGIApp) -> WSGIApp:
    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        content_type = environ.get("CONTENT_TYPE", "")
        if content_type:
            try:
                parse_header_parameters(content_type)
            except ValueError:
                logger.info(
                    "malformed content-type replaced",
                    extra={"path": environ.get("PATH_INFO", "")[:200]},
                )
                environ["CONTENT_TYPE"] = "application/octet-stream"
        return app(environ, start_response)

    return guarded
