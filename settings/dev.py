"""Local development: `make run`. Debug on and mail to files unless the environment says
otherwise."""

from __future__ import annotations

import os

os.environ.setdefault("DEBUG", "true")
# Mails become files under DATA_DIR/mail with one log line each, instead of whole mails (and
# their base64 calendar attachments) in the log. Empty counts as unset, like everywhere else.
if not os.environ.get("EMAIL_BACKEND", "").strip():
    os.environ["EMAIL_BACKEND"] = "file"

from settings.base import *  # noqa: F403
