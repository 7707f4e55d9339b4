"""The customer pages. /manage/<token>/ is also the link the widget API hands out (by name)."""

from __future__ import annotations

from django.urls import path

from booking import views
from booking.views import feed, invitation, my_data, site

app_name = "booking"

urlpatterns = [
    path("", site.home, name="home"),
    path("privacy/", site.privacy, name="privacy"),
    path("book/<slug:partner_slug>/", views.partner_page, name="partner"),
    path("book/<slug:partner_slug>/<slug:service_slug>/", views.service_page, name="service"),
    path("book/<slug:partner_slug>/<slug:service_slug>/book/", views.book, name="book"),
    # Tokens are URL-safe base64; <str:> lets a malformed one reach the view and get the same
    # 404 as an unknown one.
    path("lost-link/<slug:partner_slug>/", views.lost_link, name="lost-link"),
    path("manage/<str:token>/", views.manage, name="manage"),
    path("manage/<str:token>/cancel/", views.manage_cancel, name="cancel"),
    path("manage/<str:token>/cancel/confirm/", views.manage_cancel_confirm, name="cancel-confirm"),
    path("manage/<str:token>/reschedule/", views.manage_reschedule, name="reschedule"),
    path(
        "manage/<str:token>/reschedule/confirm/",
        views.manage_reschedule_confirm,
        name="reschedule-confirm",
    ),
    path("manage/<str:token>/renew/", views.manage_renew, name="renew"),
    path("manage/<str:token>/my-data/", my_data.my_data_page, name="my-data"),
    path("manage/<str:token>/my-data.json", my_data.my_data_json, name="my-data-json"),
    path("manage/<str:token>/my-data/delete/", my_data.my_data_erase, name="my-data-erase"),
    # An invitation to a partner's workspace: the link (its token is redacted in logs), then the
    # password page without the token in its URL.
    path("invitation/", invitation.invitation_accept, name="invitation-accept"),
    path("invitation/<str:token>/", invitation.invitation_open, name="invitation"),
    # A staff member's private calendar subscription (booking.feeds); the secret is redacted
    # from every log (security.logging). <str:> for the same reason as the manage links.
    path("feed/<slug:partner_slug>/<str:secret>.ics", feed.calendar_feed, name="calendar-feed"),
]
