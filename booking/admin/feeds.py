"""Calendar subscriptions in the partner's workspace (booking.feeds): a staff member's login makes,
replaces or revokes the feed of their own bookings; an owner also the feed of everyone's, and
revokes any feed of the business (a stylist who left). A new feed's URL is shown once, in the
answer to the POST that made it (never stored, never put in a session or a redirect).
Partner users only: operators have no bookings of their own (403)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from booking import feeds
from booking.admin.scoping import request_scope
from booking.models import CalendarFeedScope
from security.actors import Actor, Via


class CreateFeedForm(forms.Form):
    scope = forms.ChoiceField(choices=CalendarFeedScope.choices, label=gettext_lazy("Feed"))


class RevokeFeedForm(forms.Form):
    feed = forms.IntegerField(min_value=1, max_value=2**63 - 1)


def feeds_view(model_admin: admin.ModelAdmin) -> Callable[[HttpRequest], HttpResponse]:
    @require_http_methods(["GET", "HEAD", "POST"])
    def view(request: HttpRequest) -> HttpResponse:
        scope = request_scope(request)
        if not scope.is_partner:
            raise PermissionDenied
        created: feeds.NewFeed | None = None
        if request.method == "POST":
            actor = Actor.from_request(request, via=Via.ADMIN)
            if request.POST.get("action") == "revoke":
                return _revoke(request, actor)
            form = CreateFeedForm(request.POST)
            if not form.is_valid():
                raise PermissionDenied
            created = feeds.calendar_feed_create(
                actor=actor, scope=CalendarFeedScope(form.cleaned_data["scope"])
            )
        allowed = feeds.scopes_allowed(request.user)
        mine = {
            f.scope: f
            for f in feeds.calendar_feeds_for(request.user)
            if f.user_id == request.user.pk
        }
        context: dict[str, Any] = {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "title": _("Calendar subscriptions"),
            "zone_name": scope.partner.time_zone if scope.partner else "",
            "choices": [{"scope": s, "label": s.label, "feed": mine.get(s)} for s in allowed],
            "others": [
                f for f in feeds.calendar_feeds_for(request.user) if f.user_id != request.user.pk
            ],
            "created": created,
            "created_webcal": feeds.webcal_url(created.url) if created else "",
        }
        response = TemplateResponse(request, "admin/booking/feeds.html", context)
        # The page may show a new feed's URL: no cache keeps it.
        add_never_cache_headers(response)
        return response

    return view


def _revoke(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = RevokeFeedForm(request.POST)
    if not form.is_valid():
        raise Http404
    # Another partner's feed, or one this user may not see: the same 404 as an unknown id.
    feed = feeds.calendar_feeds_for(request.user).filter(pk=form.cleaned_data["feed"]).first()
    if feed is None:
        raise Http404
    try:
        feeds.calendar_feed_revoke(feed=feed, actor=actor)
    except ValidationError:
        raise Http404 from None
    messages.success(request, _("The calendar feed was revoked. Its URL no longer works."))
    return HttpResponseRedirect(reverse("admin:booking_booking_feeds"))
