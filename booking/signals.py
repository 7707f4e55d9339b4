"""Signals the booking domain sends, for apps that build on it without booking importing them
(ARCHITECTURE: booking never imports payments).

`booking_cancelled` is sent inside the cancelling transaction, after the row is saved, when a
person cancels a booking (the customer or the partner): not for a reschedule (the booking lives
on under a new row) and not for an unpaid hold running out. A receiver that must talk to another
system (a refund at Stripe) records its intent in the same transaction and does the talking in
`transaction.on_commit`.
"""

from django.dispatch import Signal

booking_cancelled = Signal()  # kwargs: booking, actor (security.actors.Actor: who cancelled)
