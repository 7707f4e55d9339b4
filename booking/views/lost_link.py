"""/lost-link/<partner>/: "Lost your link?". A customer types the address they booked with and
gets the links of their upcoming bookings at this partner by email. The page answers the same
whether or not the address has bookings (booking.services.manage_links_request); the rate
limits are per client address (security middleware) and per email address (the service)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from booking import services
from booking.forms import LostLinkForm
from booking.i18n import active_language
from booking.views.common import partner_or_404
from security.actors import Actor, Via
from security.client_ip import client_ip


@require_http_methods(["GET", "HEAD", "POST"])
def lost_link(request: HttpRequest, partner_slug: str) -> HttpResponse:
    partner = partner_or_404(partner_slug)
    if request.method != "POST":
        return render(
            request, "booking/lost_link.html", {"partner": partner, "form": LostLinkForm()}
        )
    form = LostLinkForm(request.POST)
    if not form.is_valid():
        return render(
            request, "booking/lost_link.html", {"partner": partner, "form": form}, status=400
        )
    services.manage_links_request(
        partner=partner,
        email=form.cleaned_data["email"],
        actor=Actor.customer(via=Via.BOOKING_PAGE, ip=client_ip(request)),
        # The email in the language of the page the customer asked from.
        language=active_language(),
    )
    return render(request, "booking/lost_link.html", {"partner": partner, "sent": True})
