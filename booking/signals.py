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

# Partner deletion (booking.deletion.partner_delete). `partner_deleting` is sent inside the
# deleting transaction, after the future bookings were cancelled (and `booking_cancelled` sent for
# each) and before any row is deleted: a receiver deletes or detaches its own rows that refer to
# the partner's bookings. kwargs: partner, actor, booking_ids (every booking of the partner).
partner_deleting = Signal()
# Asked by the deletion preview; a receiver returns a dict of counts to show ({"refunds": 2}).
# kwargs: partner, booking_ids (the future bookings that would be cancelled).
partner_deletion_preview = Signal()
