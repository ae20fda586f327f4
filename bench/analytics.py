"""Analytics service time at 1k and 100k executions, on PostgreSQL. Not a test.

    psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE prsm_bench_analytics'
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/prsm_bench_analytics \\
        .venv/bin/python bench/analytics.py

Seeds rows with ``bulk_create`` (what the engine would have written: finished
executions with timestamps and costs, three step runs for a subset) and times
``executions.analytics.workflow_analytics`` (the whole endpoint's work: counts by
status, average/p50/p95 duration, per-step statistics, daily buckets), the median
of several calls, in two scenarios:

A. the table grows from 1k to 100k executions while the workflow asked about keeps
   its 1k runs in the window (the other 99k belong to other workflows): the
   ``execution_analytics_idx`` index keeps the time flat;
B. the workflow itself has 1k, then 100k runs in the window: the aggregates must
   read every one of them (from the index alone on PostgreSQL), so the time grows
   with the rows; the figure says how long a very busy workflow's page takes.

It also times ``resource_usage`` (group_by=workflow_id) over all 100k.
The database is emptied of these rows at the start of each run.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prsm_site.settings")
if os.environ.setdefault("DEBUG", "0") == "0":
    import secrets

    from cryptography.fernet import Fernet

    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("PRSM_ENCRYPTION_KEYS", Fernet.generate_key().decode())

if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
    sys.exit("DATABASE_URL must point at a PostgreSQL database (see the docstring).")

import django

django.setup()

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from executions import analytics
from executions.models import Execution, StepRun
from workflows import services
from workflows.definition_checks import definition_require_valid
from workflows.models import AuditEntry, Workflow

SMALL, LARGE = 1_000, 100_000
CALLS = 7
STEPS = ("fetch", "analyze", "report")
STEP_RUN_SHARE = 0.2  # step runs for this share of the executions
BATCH = 5_000


def _workflow(user, name: str) -> Workflow:
    steps = [{"id": s, "type": "data_processing", "function": "noop", "input": 0} for s in STEPS]
    checked = definition_require_valid({"name": name, "steps": steps}, user=user)
    return services.workflow_create(
        owner=user, definition=checked.definition, document=checked.document
    )


def _seed(workflow: Workflow, user, count: int, rng: random.Random) -> None:
    now = timezone.now()
    version = workflow.published_version()
    rows = []
    for _ in range(count):
        created = now - timedelta(seconds=rng.uniform(60, 29 * 86400))
        seconds = rng.lognormvariate(2.5, 0.6)
        status = "completed" if rng.random() < 0.9 else "failed"
        rows.append(
            Execution(
                workflow=workflow,
                version=version,
                definition=version.definition,
                created_by=user,
                status=status,
                created_at=created,
                started_at=created,
                completed_at=created + timedelta(seconds=seconds),
                total_cost=Decimal(f"{rng.uniform(0, 0.5):.6f}"),
                cpu_seconds=seconds * 0.8,
                ram_gb_seconds=seconds * 0.5,
            )
        )
    made = Execution.objects.bulk_create(rows, batch_size=BATCH)
    runs = []
    for execution in made:
        if rng.random() >= STEP_RUN_SHARE:
            continue
        start = execution.started_at
        assert start is not None  # every row above has one
        for step in STEPS:
            end = start + timedelta(seconds=rng.uniform(0.5, 5))
            runs.append(
                StepRun(
                    execution=execution,
                    key=step,
                    step_id=step,
                    status="completed" if rng.random() < 0.95 else "failed",
                    attempt=1 if rng.random() < 0.9 else 2,
                    cost=Decimal(f"{rng.uniform(0, 0.1):.6f}"),
                    started_at=start,
                    completed_at=end,
                )
            )
            start = end
        if len(runs) >= BATCH:
            StepRun.objects.bulk_create(runs, batch_size=BATCH)
            runs = []
    StepRun.objects.bulk_create(runs, batch_size=BATCH)


def _settle() -> None:
    """Fresh statistics, and the visibility map an index-only scan needs."""
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Execution._meta.db_table}")
        cursor.execute(f"VACUUM ANALYZE {StepRun._meta.db_table}")


def _time(fn) -> float:
    fn()  # warm the cache
    samples = []
    for _ in range(CALLS):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    call_command("migrate", verbosity=0)
    connection.ensure_connection()
    connection.connection.autocommit = True
    with connection.cursor() as cursor:  # a clean slate (TRUNCATE: audit rows are append-only)
        cursor.execute(
            f"TRUNCATE {StepRun._meta.db_table}, {Execution._meta.db_table}, "
            f"{AuditEntry._meta.db_table} CASCADE"
        )
    User = get_user_model()
    user, _ = User.objects.get_or_create(username="bench-analytics")
    rng = random.Random(7)  # noqa: S311 - reproducible data, not secrets
    window = analytics.window_resolve(timeframe="last_30_days")
    target = _workflow(user, "bench target")
    others = [_workflow(user, f"bench other {i}") for i in range(99)]

    def target_analytics() -> None:
        analytics.workflow_analytics(workflow=target, window=window)

    print(f"seeding {SMALL} executions of one workflow …", flush=True)
    _seed(target, user, SMALL, rng)
    _settle()
    a_small = _time(target_analytics)
    print(f"seeding {LARGE - SMALL} executions of 99 other workflows …", flush=True)
    for workflow in others:
        _seed(workflow, user, (LARGE - SMALL) // len(others), rng)
    _settle()
    a_large = _time(target_analytics)
    usage = _time(
        lambda: analytics.resource_usage(user=user, window=window, group_by="workflow_id")
    )
    print(f"seeding {LARGE - SMALL} more executions of the target workflow …", flush=True)
    _seed(target, user, LARGE - SMALL, rng)
    _settle()
    b_large = _time(target_analytics)
    total = Execution.objects.count()

    print()
    print(f"executions in the table: {total}; median of {CALLS} calls")
    print("A. one workflow with 1k runs in the window, table of 1k vs 100k executions")
    print(f"   1k:   {a_small * 1000:8.1f} ms")
    print(f"   100k: {a_large * 1000:8.1f} ms   ratio {a_large / a_small:.2f}")
    print("B. one workflow with 1k vs 100k runs in the window")
    print(f"   1k:   {a_small * 1000:8.1f} ms")
    print(f"   100k: {b_large * 1000:8.1f} ms   ratio {b_large / a_small:.2f}")
    print(f"resource usage by workflow over {LARGE} executions: {usage * 1000:.1f} ms")


if __name__ == "__main__":
    main()
