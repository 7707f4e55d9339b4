"""A production backup configuration for tests that start settings.prod (check --deploy must be
clean): an age public key (its private half is thrown away), a manifest signing key made for
these tests only and its public key, three remote destinations on three hosts and an offline one
on a fourth, and Stripe keys."""

from __future__ import annotations

PRODUCTION_BACKUP_ENV = {
    "BACKUP_PUBLIC_KEY": "age1mt7h97v2n372sf0s7nx3kvm7fyjtkc4jfqh9lkp7cnj9g9grtywqx72rhm",
    "BACKUP_DESTINATIONS": ",".join(
        [
            "sftp://backup@one.example:22/srv/backups?host_key=SHA256:abc",
            "sftp://backup@two.example:22/srv/backups?host_key=SHA256:def",
            "s3://booking-backups/nightly?endpoint_url=https://s3.example",
        ]
    ),
    "BACKUP_OFFLINE_DESTINATION": "sftp://backup@vault.example:22/srv/offline?host_key=SHA256:ghi",
    "BACKUP_SIGNING_KEY": (
        "-----BEGIN PRIVATE KEY-----\n"
        "MC4CAQAwBQYDK2VwBCIEIGnHI/tcOhU7g8LJWVI/h8PbyB9XCJCFVQI4i8qXhelA\n"
        "-----END PRIVATE KEY-----\n"
    ),
    "BACKUP_SIGNING_PUBLIC_KEYS": "ed25519:XbQTCyPMYUbNPTUsn43qcVaWf9gjSFZaqQNx3z339m0=",
}

# Stripe keys of the right shapes (never used to call Stripe: these tests only load settings).
PRODUCTION_PAYMENTS_ENV = {
    "STRIPE_SECRET_KEY": "sk_live_" + "x" * 24,
    "STRIPE_PUBLISHABLE_KEY": "pk_live_" + "x" * 24,
    "STRIPE_WEBHOOK_SECRET": "whsec_" + "x" * 32,
}

# Field encryption keys made for these tests only (settings.prod refuses the development ones).
PRODUCTION_FIELD_ENCRYPTION_ENV = {
    "FIELD_ENCRYPTION_KEYS": "T96VVYpz0epZSWYmhE-SdE31P6AvVwMdTixmQurL-3s=",
    "FIELD_BLIND_INDEX_KEY": "5KYcmqzMEyFzSgxlpBB2glCJVumJs-m1XDp94oSKL7upCbEG9MxFP5zXRUoCqXfS",
}

# The customers' manage-link key, set explicitly as production must (booking.E001).
PRODUCTION_LINK_KEY_ENV = {
    "MANAGE_LINK_KEY": "mlk-tests-only-Wq3vN8xZr2Lk5Tb7Yc1Hd9Fg4Jm6Ps0A",
}
