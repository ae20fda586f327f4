"""``manage.py serve``: the whole app on one machine, from one command.

Records this machine's queues as the deployment's, then starts the embedded Redis
(unless ``REDIS_URL`` is set), a Celery worker with the reaper's beat schedule, and
the ASGI server (Daphne: HTTP and websockets).
Ctrl-C (or SIGTERM) stops all three.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from executions.operations.queues import declaration_record, process_name
from prsm_site.embedded import start_redis


class Command(BaseCommand):
    help = "Serve the app with its worker (and the embedded Redis when REDIS_URL is unset)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--concurrency", type=int, default=2)
        parser.add_argument("--queues", default="default,notifications")

    def handle(self, *args: Any, **options: Any) -> None:
        children: list[subprocess.Popen[bytes]] = []
        # One machine is the whole deployment: its queues are the declared ones (the
        # worker and web it starts check theirs against them, executions.operations.queues).
        declaration_record(by=process_name("manage.py serve"))
        redis = None if settings.REDIS_URL else start_redis(settings.EMBEDDED_REDIS_SOCKET)
        if redis is not None:
            self.stdout.write(f"Embedded Redis on {settings.EMBEDDED_REDIS_SOCKET}")
        env = dict(os.environ)
        beat_file = str(settings.VAR_DIR / "celerybeat-schedule")
        children.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "prsm_site",
                    "worker",
                    "-B",
                    "-s",
                    beat_file,
                    "-c",
                    str(options["concurrency"]),
                    "-Q",
                    options["queues"],
                    "--loglevel",
                    "INFO",
                ],
                env=env,
            )
        )
        children.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "daphne",
                    "-b",
                    options["host"],
                    "-p",
                    str(options["port"]),
                    "prsm_site.asgi:application",
                ],
                env=env,
            )
        )
        self.stdout.write(f"Serving on http://{options['host']}:{options['port']}/ (Ctrl-C stops)")

        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping and all(c.poll() is None for c in children):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(20)
                except subprocess.TimeoutExpired:
                    child.kill()
            if redis is not None:
                redis.terminate()
                redis.wait(10)
        failed = [c for c in children if c.returncode not in (0, -signal.SIGTERM, None)]
        if failed and not stopping:
            sys.exit(1)
