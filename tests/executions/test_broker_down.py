"""Execute never answers 5xx once it has committed a run: with the broker down the
answer is 201, the execution records why its steps wait, and the reaper publishes
them when the broker is back; the run then completes once."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

from django.db import connection

from executions.models import Execution
from executions.services import reaper
from prsm_site.celery import app
from prsm_site.embedded import redis_server_binary
from tests.conftest import client_for
from tests.engine import wait_for
from tests.executions.helpers import create_workflow, events, runs, wait_terminal

CHAIN = {
    "name": "chain",
    "steps": [
        {"id": "first", "type": "data_processing", "function": "noop", "input": 1},
        {"id": "second", "type": "data_processing", "function": "noop", "input": "${first.result}"},
    ],
}


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _broker_at(url: str) -> None:
    """Point this process's Celery app at ``url`` (its pools start afresh)."""
    app.conf.broker_url = url
    app._after_fork()  # drops the connection and producer pools


@contextlib.contextmanager
def broker_that_died() -> Iterator[None]:
    """This process publishes to a Redis that was up (a pooled connection to it) and
    is now gone; afterwards, to the real broker again."""
    real = app.conf.broker_url
    port = _free_port()
    command = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1"]
    server = subprocess.Popen(
        [*command, "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: _answers(port), timeout=10, message="the throwaway Redis")
        _broker_at(f"redis://127.0.0.1:{port}/0")
        with app.producer_or_acquire() as producer:  # a live connection in the pool
            producer.connection.ensure_connection(max_retries=1)
        server.kill()
        server.wait(10)
        yield
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
        _broker_at(real)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def test_execute_answers_201_with_the_broker_down_and_the_run_completes_once_it_is_back(
    worker: Any, alice: Any
) -> None:
    wf = create_workflow(alice, CHAIN)

    with broker_that_died():
        started = time.monotonic()
        response = client_for(alice).post(f"/api/v1/workflows/{wf}/execute", {}, format="json")
        took = time.monotonic() - started

    assert response.status_code == 201, response.content
    assert took < 10  # the publish fails fast, not after a minute of retries
    ex = response.json()["execution_id"]
    deferred = [e for e in events(ex) if e.type == "execution.dispatch_deferred"]
    assert len(deferred) == 1
    assert deferred[0].payload["steps"] == ["first"]
    assert (
        deferred[0]
        .payload["message"]
        .startswith(
            "The task queue could not be reached (OperationalError); "
            "1 step(s) will be sent when it is back: first"
        )
    )
    assert runs(ex)["first"].status == "queued"
    time.sleep(1)  # nothing runs meanwhile: no message was sent
    assert runs(ex)["first"].status == "queued"

    assert reaper.reap()["republished"] == 1  # the broker is back

    assert wait_terminal(ex).status == "completed"
    connection.close()
    assert Execution.objects.count() == 1
    done = Counter(e.step_key for e in events(ex) if e.type == "step.completed")
    running = Counter(e.step_key for e in events(ex) if e.type == "step.running")
    assert done == running == {"first": 1, "second": 1}
