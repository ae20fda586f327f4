"""Engine overhead against raw Celery, on the production stack. Not a test.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/prsm_bench \\
    REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/engine.py

Starts one 2-process Celery worker (the engine's settings: acks_late, prefetch 1)
and, in the same run, measures:

- a 40-step linear chain of no-op steps through the engine, beside a raw Celery
  ``chain`` of 40 no-op tasks;
- a 1 → 1000 → 1 fan-out/fan-in through the engine, beside a raw Celery
  ``group`` of 1000 no-op tasks between two single tasks (raw Celery has no
  fan-in without a result backend, so the baseline counts completions in Redis);
- how long after the root step finishes the 1000 fan-out steps are all queued.

It prints seconds, per-step overhead (engine − raw, per step) and ratios.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prsm_site.settings")
# Production settings (DEBUG off: no per-query debug cursor), for this process and the
# worker it starts; throwaway keys unless the caller set real ones.
if os.environ.setdefault("DEBUG", "0") == "0":
    import secrets

    from cryptography.fernet import Fernet

    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("PRSM_ENCRYPTION_KEYS", Fernet.generate_key().decode())

import django

django.setup()

import redis
from celery import chain, group
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.models import Max

from bench.celery_tasks import mark, noop
from executions.models import EXECUTION_TERMINAL, Execution, StepRun
from executions.services.lifecycle import execution_start
from workflows import services
from workflows.definition_checks import definition_require_valid

CHAIN_STEPS = 40
FAN_OUT = 1000


def _step(step_id: str, deps: list[str]) -> dict:
    return {
        "id": step_id,
        "type": "data_processing",
        "function": "noop",
        "input": 0,
        **({"depends_on": deps} if deps else {}),
    }


def _workflow(user, name: str, steps: list[dict]):
    checked = definition_require_valid({"name": name, "steps": steps}, user=user)
    return services.workflow_create(
        owner=user, definition=checked.definition, document=checked.document
    )


def _run_engine(user, workflow, max_parallel: int) -> tuple[float, Execution]:
    start = time.perf_counter()
    execution = execution_start(
        workflow=workflow,
        user=user,
        inputs={},
        config={"max_parallel_steps": max_parallel, "priority": "normal"},
    )
    while True:  # autocommit: each poll sees the latest commit on the same connection
        status = Execution.objects.filter(pk=execution.pk).values_list("status", flat=True)[0]
        if status in EXECUTION_TERMINAL:
            break
        time.sleep(0.01)
    execution.refresh_from_db()
    elapsed = time.perf_counter() - start
    assert execution.status == "completed", execution.error
    return elapsed, execution


def _wait_count(r: redis.Redis, key: str, target: int) -> None:
    while int(r.get(key) or 0) < target:
        time.sleep(0.01)


def _raw_chain(r: redis.Redis) -> float:
    key = f"bench:chain:{time.monotonic_ns()}"
    start = time.perf_counter()
    chain(*[noop.si() for _ in range(CHAIN_STEPS - 1)], mark.si(key=key)).apply_async()
    _wait_count(r, key, 1)
    return time.perf_counter() - start


def _raw_fan(r: redis.Redis) -> float:
    key = f"bench:fan:{time.monotonic_ns()}"
    start = time.perf_counter()
    mark.apply_async(kwargs={"key": key + ":root"})
    _wait_count(r, key + ":root", 1)
    group(mark.si(key=key) for _ in range(FAN_OUT)).apply_async()
    _wait_count(r, key, FAN_OUT)
    mark.apply_async(kwargs={"key": key + ":sink"})
    _wait_count(r, key + ":sink", 1)
    return time.perf_counter() - start


def start_worker() -> subprocess.Popen:
    """One 2-process Celery worker on the default queue (the engine's settings), started."""
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "prsm_site",
            "worker",
            "-P",
            "prefork",
            "-c",
            "2",
            "-Q",
            "default",
            "-I",
            "bench.celery_tasks",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(4)  # worker start-up
    return worker


def main() -> None:
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        sys.exit("Run on the production stack: set DATABASE_URL (PostgreSQL) and REDIS_URL.")
    call_command("migrate", verbosity=0)
    user, _ = get_user_model().objects.get_or_create(username="bench")
    r = redis.Redis.from_url(settings.REDIS_URL)
    worker = start_worker()
    try:
        chain_wf = _workflow(
            user,
            "bench chain",
            [_step(f"s{i}", [f"s{i - 1}"] if i else []) for i in range(CHAIN_STEPS)],
        )
        # 1000 fan-out steps: a definition has at most 500 steps, so the fan-out is a
        # parallel loop — 1000 step runs, each its own task, as DESIGN §4 describes.
        fan_wf = _workflow(
            user,
            "bench fan",
            [
                {
                    "id": "root",
                    "type": "data_processing",
                    "function": "noop",
                    "input": list(range(FAN_OUT)),
                },
                {
                    "id": "fan",
                    "type": "loop",
                    "iterate_over": "${root.result}",
                    "parallel": True,
                    "max_iterations": FAN_OUT,
                    "step": {"type": "data_processing", "function": "noop", "input": 0},
                },
                _step("sink", ["fan"]),
            ],
        )
        _raw_chain(r), _run_engine(user, chain_wf, 10)  # warm up both paths

        raw_chain = min(_raw_chain(r) for _ in range(3))
        engine_chain = min(_run_engine(user, chain_wf, 10)[0] for _ in range(3))
        raw_fan = _raw_fan(r)
        engine_fan, fan_ex = _run_engine(user, fan_wf, FAN_OUT)
        root_done = StepRun.objects.get(execution=fan_ex, key="root").completed_at
        last_queued = StepRun.objects.filter(execution=fan_ex, iteration__isnull=False).aggregate(
            m=Max("queued_at")
        )["m"]
        queued_after = (last_queued - root_done).total_seconds()
    finally:
        worker.terminate()
        worker.wait(30)

    fan_steps = FAN_OUT + 2
    print(f"{'':28}{'engine':>10}{'raw celery':>12}{'ratio':>8}{'overhead/step':>16}")
    print(
        f"{'chain of 40 (s)':28}{engine_chain:10.3f}{raw_chain:12.3f}"
        f"{engine_chain / raw_chain:8.2f}{(engine_chain - raw_chain) / CHAIN_STEPS * 1000:13.2f} ms"
    )
    print(
        f"{'1 -> 1000 -> 1 (s)':28}{engine_fan:10.3f}{raw_fan:12.3f}"
        f"{engine_fan / raw_fan:8.2f}{(engine_fan - raw_fan) / fan_steps * 1000:13.2f} ms"
    )
    print(
        f"engine per step: chain {engine_chain / CHAIN_STEPS * 1000:.2f} ms, "
        f"fan {engine_fan / fan_steps * 1000:.2f} ms"
    )
    print(f"1000 fan-out steps all queued {queued_after:.3f} s after the root finished")


if __name__ == "__main__":
    main()
