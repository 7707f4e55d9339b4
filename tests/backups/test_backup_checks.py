from __future__ import annotations

from backups.checks import check_backup_settings


def test_production_needs_a_key_and_three_remote_destinations(settings) -> None:
    settings.BACKUP_PUBLIC_KEY = ""
    settings.BACKUP_DESTINATIONS = ["/var/backups/a", "sftp://u@h:22/x?host_key=SHA256:abc"]
    messages = [e.msg for e in check_backup_settings()]
    assert {e.id for e in check_backup_settings()} == {"backups.E001"}
    assert any("BACKUP_PUBLIC_KEY" in m for m in messages)
    assert any("at least 3" in m for m in messages)
    assert any("local directory" in m for m in messages)


def test_a_proper_production_configuration_passes(settings) -> None:
    settings.BACKUP_PUBLIC_KEY = "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq"
    settings.BACKUP_DESTINATIONS = [
        "sftp://backup@one.example:22/srv/backups?host_key=SHA256:abc",
        "sftp://backup@two.example:22/srv/backups?host_key=SHA256:def",
        "s3://booking-backups/nightly?endpoint_url=https://s3.example",
    ]
    assert check_backup_settings() == []


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
    }
    assert jobs <= scheduled
    assert jobs <= set(current_app.tasks)
