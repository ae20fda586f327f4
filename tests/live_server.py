"""A real Daphne server process, for tests that speak websocket over real TCP.

A plain module, not fixtures, so any test module or ``conftest.py`` can build its
own fixture on it (``tests/executions/test_live.py`` has one)::

    server = DaphneServer.start()        # after the test database exists, Redis runs
    ws_url = server.url("ws/executions/exec_…/", after=3)
    server.stop()

The server is a separate process sharing the test database (``tests.engine.
child_env``: ``DATABASE_URL`` of the test database, the same ``PRSM_VAR_DIR`` and
so the same ``SECRET_KEY`` for sessions and the same embedded Redis socket, or the
inherited ``REDIS_URL``). It sees only committed rows: tests that use it need
``transactional_db``.

It serves ``tests.live_server:application``: the real ``prsm_site.asgi``
application, with one test-only difference (see ``_application``).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.apps import apps

from tests.engine import ROOT, child_env

_LISTENING = re.compile(r"Listening on TCP address 127\.0\.0\.1:(\d+)")
ASGI_APPLICATION = "tests.live_server:application"


@cache
def _application() -> Callable[..., Any]:
    """``prsm_site.asgi.application`` with a fresh ContentType cache per connection.

    Why: ``transactional_db`` flushes the database after each test and Django
    recreates the content types and permissions with new ids. The test process
    clears its ContentType cache when that happens; a long-lived server process
    would keep the old ids, and guardian would then find no permission for anyone
    (every socket a 4404). Clearing the in-memory cache at each connection gives the
    server what one freshly started against the current database would have.
    """
    from prsm_site.asgi import application as prsm_application  # sets Django up

    content_types = apps.get_model("contenttypes", "ContentType").objects

    async def application(scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] in ("http", "websocket"):
            content_types.clear_cache()
        return await prsm_application(scope, receive, send)

    return application


def __getattr__(name: str) -> Any:
    # Lazy, so importing this module (as the test process does) sets nothing up;
    # Daphne's ``getattr(module, "application")`` builds the app at server start.
    if name == "application":
        return _application()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class DaphneServer:
    """``daphne prsm_site.asgi:application`` on a free loopback port, in a child process."""

    process: subprocess.Popen[bytes]
    port: int
    workdir: Path
    host: str = "127.0.0.1"

    @classmethod
    def start(
        cls, *, extra_env: dict[str, str] | None = None, timeout: float = 60.0
    ) -> DaphneServer:
        """Start the server and wait until it listens.

        Port 0: the kernel picks a free port (no race with another process grabbing
        a port we probed), and Daphne logs the one it got.
        """
        workdir = Path(tempfile.mkdtemp(prefix="prsm-daphne-"))
        log_path = workdir / "daphne.log"
        env = child_env(LOG_LEVEL="INFO", **(extra_env or {}))  # INFO: the "Listening" line
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "daphne",
                    "-b",
                    "127.0.0.1",
                    "-p",
                    "0",
                    "--access-log",
                    os.devnull,
                    ASGI_APPLICATION,
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in pytest does not kill it mid-test
            )

        def tail() -> str:
            return log_path.read_text(errors="replace")[-6000:] if log_path.exists() else ""

        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                log_tail = tail()  # before its directory goes
                shutil.rmtree(workdir, ignore_errors=True)
                raise RuntimeError(f"daphne exited with {process.returncode}:\n{log_tail}")
            match = _LISTENING.search(tail())
            if match:
                return cls(process=process, port=int(match.group(1)), workdir=workdir)
            if time.monotonic() > deadline:
                process.kill()
                process.wait(10)
                raise RuntimeError(f"daphne did not listen within {timeout:.0f} s:\n{tail()}")
            time.sleep(0.05)

    def url(self, path: str, *, scheme: str = "ws", **query: Any) -> str:
        """``ws://127.0.0.1:PORT/path?query`` for this server."""
        qs = f"?{urlencode(query)}" if query else ""
        return f"{scheme}://{self.host}:{self.port}/{path.lstrip('/')}{qs}"

    @property
    def origin(self) -> str:
        """The ``Origin`` a browser sends from a page this server served."""
        return f"http://{self.host}:{self.port}"

    def is_alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        path = self.workdir / "daphne.log"
        return path.read_text(errors="replace")[-6000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        shutil.rmtree(self.workdir, ignore_errors=True)
