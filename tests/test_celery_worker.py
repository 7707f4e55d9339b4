"""A real Celery worker process runs a task enqueued by this process (the scheduled heartbeat),
through the embedded filesystem broker or through Redis, whichever the settings configure.

The worker shares DATA_DIR with the test process, so it sees the same broker folder and file cache
(with Redis, the same Redis database). The heartbeat only touches the cache: no database needed."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from security.health import heartbeat_age_seconds
from security.tasks import heartbeat
from settings.celery import app

pytestmark = pytest.mark.slow

logger = logging.getLogger(__name__)
DEADLINE_SECONDS = 60


class Worker:
    def __init__(self, process: subprocess.Popen[bytes], log: Path) -> None:
        self.process = process
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-5000:]


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[Worker]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings.test",
        "DATA_DIR": str(settings.DATA_DIR),
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    log = tmp_path / "worker.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "settings",
                "worker",
                "--pool",
                "solo",
                "-c",
                "1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "WARNING",
                "-n",
                f"test-{os.getpid()}@%h",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    handle = Worker(process, log)
    try:
        yield handle
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture
def eager_off() -> Iterator[None]:
    # settings.test runs tasks inline; these tests need them to travel through the broker.
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


def _assert_worker_runs_the_heartbeat(worker: Worker) -> None:
    """Enqueue the heartbeat here and wait until the worker's write shows up in the cache."""
    assert heartbeat_age_seconds() is None, "the cache must start without a heartbeat"
    heartbeat.apply_async()
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if heartbeat_age_seconds() is not None:
            return
        if worker.process.poll() is not None:
            break
        time.sleep(0.25)
    output = worker.output()
    logger.error("celery worker output:\n%s", output)
    pytest.fail(
        f"the worker did not record a heartbeat within {DEADLINE_SECONDS} s "
        f"(exit code {worker.process.poll()}); its output:\n{output}"
    )


@pytest.mark.embedded
def test_worker_runs_a_task_sent_through_the_embedded_filesystem_broker(
    worker: Worker, eager_off: None
) -> None:
    assert settings.CELERY_BROKER_URL.startswith("filesystem://")
    _assert_worker_runs_the_heartbeat(worker)


@pytest.mark.redis
def test_worker_runs_a_task_sent_through_redis(worker: Worker, eager_off: None) -> None:
    assert settings.CELERY_BROKER_URL == settings.REDIS_URL
    _assert_worker_runs_the_heartbeat(worker)
