from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.prod")

from security.wsgi import guard_malformed_headers

application = guard_malformed_headers(get_wsgi_application())
