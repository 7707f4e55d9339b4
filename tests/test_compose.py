"""docker-compose.yml describes a production stack that heals and keeps its data: five services,
each with a health check, started in health order, data in named volumes, and no secret in the
file itself (they come from an env file that git ignores)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
SERVICES = {"web", "worker", "beat", "db", "redis"}
SECRET_NAME = re.compile(r"SECRET|PASSWORD|KEY|TOKEN", re.IGNORECASE)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def _environment(service: dict[str, Any]) -> dict[str, Any]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the "NAME=value" list form
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


def _env_files(service: dict[str, Any]) -> list[str]:
    files = service.get("env_file") or []
    files = [files] if isinstance(files, str | dict) else files
    return [f["path"] if isinstance(f, dict) else f for f in files]


def test_compose_defines_the_five_services(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == SERVICES


def test_every_service_has_a_healthcheck_and_restarts(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"
        assert service.get("restart") == "unless-stopped", name


def test_app_services_run_the_production_settings(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("web", "worker", "beat"):
        assert _environment(services[name]).get("DJANGO_SETTINGS_MODULE") == "settings.prod", name
    assert "settings.wsgi:application" in str(services["web"]["command"])
    assert "gunicorn" in str(services["web"]["command"])
    assert "/healthz" in str(services["web"]["healthcheck"]["test"])
    assert "inspect ping" in str(services["worker"]["healthcheck"]["test"])


def test_services_wait_for_their_dependencies_to_be_healthy(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("web", "worker", "beat"):
        depends = services[name].get("depends_on")
        assert isinstance(depends, dict) and {"db", "redis"} <= set(depends), name
        for dependency, condition in depends.items():
            assert condition == {"condition": "service_healthy"}, f"{name} -> {dependency}"


def test_db_and_redis_keep_their_data_in_named_volumes(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    for name, target in (("db", "/var/lib/postgresql/data"), ("redis", "/data")):
        mounts = [str(v).split(":") for v in compose["services"][name].get("volumes", [])]
        named = {source for source, mount_target, *_ in mounts if mount_target == target}
        assert named and named <= declared, f"{name} must mount a declared named volume at {target}"


def test_no_secret_is_written_in_the_file(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for key, value in _environment(service).items():
            if SECRET_NAME.search(key):
                # Only references to the operator's environment, never a value.
                assert value is None or str(value).startswith("$"), (
                    f"{name}: {key} has a literal value"
                )


def test_env_files_are_ignored_by_git_and_not_tracked(compose: dict[str, Any]) -> None:
    env_files = {path for service in compose["services"].values() for path in _env_files(service)}
    assert env_files == {".env.production"}
    ignored_lines = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    for path in env_files:
        assert path in ignored_lines or f"/{path}" in ignored_lines, (
            f"{path} missing from .gitignore"
        )
        assert not (ROOT / path).is_symlink()
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        return
    for path in env_files:
        ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, check=False)
        assert ignored.returncode == 0, f"git does not ignore {path}"
        tracked = subprocess.run(
            ["git", "ls-files", "--", path], cwd=ROOT, capture_output=True, text=True, check=True
        )
        assert tracked.stdout == "", f"{path} is tracked by git"
