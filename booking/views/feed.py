"""The private calendar feed: /feed/<partner slug>/<secret>.ics (booking.feeds).

Calendar clients poll it without a session, so the view reads no session or user (no
`Vary: Cookie`, no cookie set) and answers never-cache, no-referrer, noindex like the other
pages whose URL is a secret. Unknown, malformed, revoked and foreign secrets all get the same
small 404, so the answer tells nothing about which feeds exist. The rate limit counts per feed
(settings.RATE_LIMITS["feed"]), before the database is asked."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from booking import feeds
from booking.views.common import mark_private
from security import ratelimit
from security.middleware import too_many_requests

logger = logging.getLogger(__name__)


def _not_found() -> HttpResponse:
    return mark_private(HttpResponse(b"Not found.\n", status=404, content_type="text/plain"))


@require_safe
def calendar_feed(request: HttpRequest, partner_slug: str, secret: str) -> HttpResponse:
    conf = settings.RATE_LIMITS["feed"]
    decision = ratelimit.hit(
        scope="feed",
        key=feeds.secret_hash(secret)[:32],
        rate=ratelimit.Rate.parse(conf["rate"]),
        fail_open=conf["fail_open"],
    )
    if not decision.allowed:
        logger.warning("calendar feed rate limited", extra={"scope": "feed"})
        return mark_private(too_many_requests(request, decision.retry_after))
    feed = feeds.calendar_feed_for_secret(partner_slug=partner_slug, secret=secret)
    if feed is None:
        return _not_found()
    body = feeds.calendar_feed_body(feed)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="calendar.ics"'
    logger.info("calendar feed served", extra={"feed_id": feed.pk, "partner_id": feed.partner_id})
    return mark_private(response)
