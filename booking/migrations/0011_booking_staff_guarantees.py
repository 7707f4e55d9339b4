"""Every booking has its staff member (0010 gave the existing ones the team), and on PostgreSQL:

- the no-overlap guarantee moves from the partner to each staff member and each resource: two
  blocking bookings (on hold or confirmed, as in 0002) of one staff member, or of one resource, may
  not have overlapping busy ranges (buffers included, half-open);
- composite foreign keys keep a booking's staff member and resource within the booking's partner,
  and a staff member's login a member of the staff member's partner (it is unlinked when the
  membership ends), whatever writes the row (a forged form, a bug, a hand-written UPDATE).

The composite keys are checked at once (not deferred like Django's own): a forged write fails
where it is made, inside the service's savepoint. Separate from 0010: PostgreSQL refuses ALTER TABLE with the data migration's updates pending.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import django.db.models.deletion
from django.db import migrations, models

if TYPE_CHECKING:
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor
    from django.db.migrations.state import StateApps

_BLOCKING = "status IN ('pending_payment', 'confirmed')"
CREATE = f"""
ALTER TABLE booking_booking DROP CONSTRAINT IF EXISTS booking_no_overlap;
ALTER TABLE booking_booking ADD CONSTRAINT booking_staff_no_overlap
    EXCLUDE USING gist (staff_id WITH =, tstzrange(busy_start, busy_end, '[)') WITH &&)
    WHERE ({_BLOCKING});
ALTER TABLE booking_booking ADD CONSTRAINT booking_resource_no_overlap
    EXCLUDE USING gist (resource_id WITH =, tstzrange(busy_start, busy_end, '[)') WITH &&)
    WHERE ({_BLOCKING} AND resource_id IS NOT NULL);
ALTER TABLE booking_booking ADD CONSTRAINT booking_staff_of_partner
    FOREIGN KEY (partner_id, staff_id) REFERENCES booking_staffmember (partner_id, id)
    NOT DEFERRABLE;
ALTER TABLE booking_booking ADD CONSTRAINT booking_resource_of_partner
    FOREIGN KEY (partner_id, resource_id) REFERENCES booking_resource (partner_id, id)
    NOT DEFERRABLE;
ALTER TABLE booking_staffmember ADD CONSTRAINT staff_user_is_member
    FOREIGN KEY (partner_id, user_id) REFERENCES booking_partnermembership (partner_id, user_id)
    ON DELETE SET NULL (user_id);
"""
DROP = f"""
ALTER TABLE booking_staffmember DROP CONSTRAINT IF EXISTS staff_user_is_member;
ALTER TABLE booking_booking DROP CONSTRAINT IF EXISTS booking_resource_of_partner;
ALTER TABLE booking_booking DROP CONSTRAINT IF EXISTS booking_staff_of_partner;
ALTER TABLE booking_booking DROP CONSTRAINT IF EXISTS booking_resource_no_overlap;
ALTER TABLE booking_booking DROP CONSTRAINT IF EXISTS booking_staff_no_overlap;
ALTER TABLE booking_booking ADD CONSTRAINT booking_no_overlap
    EXCLUDE USING gist (partner_id WITH =, tstzrange(busy_start, busy_end, '[)') WITH &&)
    WHERE ({_BLOCKING});
"""


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("booking", "0010_the_team")]
    operations = [
        migrations.AlterField(
            model_name="booking",
            name="staff",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="bookings",
                to="booking.staffmember",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
