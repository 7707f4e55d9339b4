"""Local development: `make run`. Debug on unless the environment says otherwise."""

from __future__ import annotations

import os

os.environ.setdefault("DEBUG", "true")

from settings.base import *  # noqa: F403
