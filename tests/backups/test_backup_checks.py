"""`manage.py check --deploy`: each backup configuration mistake has its own id."""

from __future__ import annotations

from pathlib import Path

import pytest
from _backup_helpers import signing_key_pair

from backups.checks import check_backup_settings

AGE_PUBLIC = "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq"
GOOD = [
    "sftp://backup@one.example:22/srv/backups?host_key=SHA256:abc",
    "sftp://backup@two.example:22/srv/backups?host_key=SHA256:def",
    "s3://booking-backups/nightly?endpoint_url=https://s3.example",
]
OFFLINE = "sftp://backup@vault.example:22/srv/offline?host_key=SHA256:ghi"


@pytest.fixture
def production(settings, tmp_path: Path):
    settings.BACKUP_PUBLIC_KEY = AGE_PUBLIC
    settings.BACKUP_DESTINATIONS = list(GOOD)
    settings.BACKUP_OFFLINE_DESTINATION = OFFLINE
    settings.BACKUP_SIGNING_KEY, public = signing_key_pair()
    settings.BACKUP_SIGNING_PUBLIC_KEYS = [public]
    settings.DATA_DIR = tmp_path / "data"
    return settings


def _ids() -> set[str]:
    return {e.id for e in check_backup_settings()}


def _messages() -> str:
    return "\n".join(e.msg for e in check_backup_settings())


def test_a_proper_production_configuration_passes(production) -> None:
    assert check_backup_settings() == []


def test_without_a_public_key(production) -> None:
    production.BACKUP_PUBLIC_KEY = ""
    assert _ids() == {"backups.E001"}


def test_fewer_than_three_destinations(production) -> None:
    production.BACKUP_DESTINATIONS = GOOD[:2]
    assert _ids() == {"backups.E002"}


def test_a_local_folder_is_not_a_remote_destination(production) -> None:
    production.BACKUP_DESTINATIONS = [*GOOD[:2], "/var/backups/c"]
    assert _ids() == {"backups.E003"}


def test_an_unsupported_url(production) -> None:
    production.BACKUP_DESTINATIONS = [*GOOD[:2], "ftp://old.example/backups"]
    assert "backups.E004" in _ids()


@pytest.mark.parametrize(
    "destinations",
    [
        [
            "s3://booking-backups/one?endpoint_url=https://s3.example",
            "s3://booking-backups/two?endpoint_url=https://s3.example",
            "s3://booking-backups/three?endpoint_url=https://s3.example",
        ],
        [
            "sftp://backup@one.example:22/srv/a?host_key=SHA256:abc",
            "sftp://backup@one.example:22/srv/b?host_key=SHA256:abc",
            "sftp://other@ONE.example:2222/srv/c?host_key=SHA256:abc",
        ],
        [
            "s3://bucket-a/x?endpoint_url=https://minio.example:9000",
            "s3://bucket-b/x?endpoint_url=https://minio.example:9000",
            GOOD[0],
        ],
    ],
    ids=["three prefixes in one bucket", "three paths on one host", "two buckets on one server"],
)
def test_destinations_on_one_server_are_not_three_destinations(production, destinations) -> None:
    production.BACKUP_DESTINATIONS = destinations
    assert _ids() == {"backups.E005"}
    assert "same server" in _messages()


def test_aws_buckets_in_different_regions_or_names_are_different_endpoints(production) -> None:
    production.BACKUP_DESTINATIONS = [
        "s3://booking-backups-a/nightly?region=eu-central-2",
        "s3://booking-backups-b/nightly?region=eu-central-2",
        GOOD[0],
    ]
    assert check_backup_settings() == []


def test_the_offline_destination_must_be_set(production) -> None:
    production.BACKUP_OFFLINE_DESTINATION = ""
    assert _ids() == {"backups.E006"}


def test_the_offline_destination_must_not_be_a_folder_under_data_dir(production) -> None:
    production.BACKUP_OFFLINE_DESTINATION = str(production.DATA_DIR / "backups" / "offline")
    assert _ids() == {"backups.E007"}
    production.BACKUP_OFFLINE_DESTINATION = f"file://{production.DATA_DIR}/offline"
    assert _ids() == {"backups.E007"}


def test_the_offline_destination_must_not_be_one_of_the_three(production) -> None:
    production.BACKUP_OFFLINE_DESTINATION = GOOD[0]
    assert _ids() == {"backups.E008"}


def test_app_servers_need_the_signing_key(production) -> None:
    production.BACKUP_SIGNING_KEY = ""
    assert _ids() == {"backups.E009"}
    production.BACKUP_SIGNING_KEY = "not a key"
    assert _ids() == {"backups.E009"}


def test_the_trusted_keys_must_include_the_signing_key(production) -> None:
    _, other = signing_key_pair()
    production.BACKUP_SIGNING_PUBLIC_KEYS = [other]
    assert _ids() == {"backups.E010"}
    production.BACKUP_SIGNING_PUBLIC_KEYS = ["ed25519:short"]
    assert _ids() == {"backups.E010"}


def test_every_backup_job_is_scheduled() -> None:
    from celery import current_app
    from django.conf import settings

    import backups.tasks  # noqa: F401  (registers the tasks)

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    jobs = {
        "backups.tasks.backup_run",
        "backups.tasks.ensure_fresh",
        "backups.tasks.offline_copy",
        "backups.tasks.backup_purge",
        "backups.tasks.backup_drill",
        "backups.tasks.backup_verify_scheduled",
    }
    assert jobs <= scheduled
    assert jobs <= set(current_app.tasks)
