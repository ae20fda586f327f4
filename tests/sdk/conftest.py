"""Fixtures for the SDK tests: a real Daphne server, a real Celery worker, API keys.

The SDK talks to the server over real HTTP and websockets. ``live`` is the shared
Daphne ``server`` (``tests/conftest.py``) plus the ``worker`` fixture, both on
``transactional_db``: the server and the worker see only committed rows. alice owns
workflows; charlie has no access.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

import prsm
from tests.engine import ROOT
from tests.live_server import DaphneServer
from workflows.tokens import api_token_create


@pytest.fixture
def live(server: DaphneServer, worker: Any) -> DaphneServer:
    """The shared live server (``tests/conftest.py``) with a worker running the engine."""
    return server


@pytest.fixture
def base_url(live: DaphneServer) -> str:
    return live.url("", scheme="http").rstrip("/")


@pytest.fixture
def alice_key(live: DaphneServer, alice: Any) -> str:
    return api_token_create(user=alice, name="sdk").key


@pytest.fixture
def client(alice_key: str, base_url: str) -> Iterator[prsm.Client]:
    with prsm.Client(api_key=alice_key, base_url=base_url) as c:
        yield c


def step_of(execution: prsm.Execution, step_id: str) -> dict[str, Any]:
    """One step of the execution's detail (failing the test if it has none)."""
    step = execution.step(step_id)
    assert step is not None, execution.steps
    return step


def run_cli(
    *args: str, key: str, base_url: str, timeout: float = 90
) -> subprocess.CompletedProcess:
    """``python -m prsm ARGS`` in a child process, configured through the environment."""
    env = {**os.environ, "PRSM_API_KEY": key, "PRSM_BASE_URL": base_url}
    return subprocess.run(
        [sys.executable, "-m", "prsm", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def sleep_chain(name: str = "Sleepy", seconds: float = 0.4, count: int = 3) -> dict[str, Any]:
    """A chain of ``count`` data-processing steps that each sleep ``seconds``."""
    steps: list[dict[str, Any]] = []
    for i in range(count):
        step: dict[str, Any] = {
            "id": f"s{i}",
            "type": "data_processing",
            "function": "sleep",
            "input": f"${{s{i - 1}.result}}" if i else "${workflow.input.text}",
            "parameters": {"seconds": seconds},
        }
        if i:
            step["depends_on"] = [f"s{i - 1}"]
        steps.append(step)
    return {"name": name, "steps": steps}


def slot_and_join(seconds: float = 1.5) -> dict[str, Any]:
    """Two independent sleeping steps, ``a`` and ``b``, and ``c`` that joins them."""
    return {
        "name": "Join",
        "steps": [
            *(
                {
                    "id": step_id,
                    "type": "data_processing",
                    "function": "sleep",
                    "input": step_id,
                    "parameters": {"seconds": seconds},
                }
                for step_id in ("a", "b")
            ),
            {"id": "c", "type": "aggregation", "inputs": {"a": "${a.result}", "b": "${b.result}"}},
        ],
    }


FAILING = {
    "name": "Always fails",
    "steps": [
        {"id": "prep", "type": "data_processing", "function": "noop", "input": "x"},
        {
            "id": "boom",
            "type": "data_processing",
            "function": "fail",
            "input": "${prep.result}",
            "depends_on": ["prep"],
        },
    ],
}
