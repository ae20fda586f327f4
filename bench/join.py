"""A join's cost against its width, on the production stack. Not a test.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/prsm_bench \\
    REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/join.py

For root → N → join (N no-op steps between two, ``max_parallel_steps`` 10) with N
= 50, 100, 200, 400 and 498 (a definition has at most 500 steps), it prints the
run's time, the time per fan-out step, and the time per step relative to N = 50:
a join whose readiness work is linear in its width keeps that ratio near 1 (a
quadratic one doubles it with each doubling of N).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.contrib.auth import get_user_model
from django.core.management import call_command

# bench.engine sets Django up (production settings) when it is imported
from bench.engine import _run_engine, _step, _workflow, start_worker

WIDTHS = (50, 100, 200, 400, 498)


def main() -> None:
    call_command("migrate", verbosity=0)
    user, _ = get_user_model().objects.get_or_create(username="bench")
    worker = start_worker()
    try:
        flows = {
            n: _workflow(
                user,
                f"bench join {n}",
                [
                    _step("root", []),
                    *(_step(f"f{i}", ["root"]) for i in range(n)),
                    _step("join", [f"f{i}" for i in range(n)]),
                ],
            )
            for n in WIDTHS
        }
        _run_engine(user, flows[WIDTHS[0]], 10)  # warm up
        times = {n: min(_run_engine(user, flows[n], 10)[0] for _ in range(2)) for n in WIDTHS}
    finally:
        worker.terminate()
        worker.wait(30)
    base = times[WIDTHS[0]] / WIDTHS[0]
    print(f"{'width':>6}{'run (s)':>10}{'per step (ms)':>15}{'vs 50':>8}")
    for n in WIDTHS:
        per = times[n] / n
        print(f"{n:6d}{times[n]:10.3f}{per * 1000:15.2f}{per / base:8.2f}")
    print(f"(measured {time.strftime('%Y-%m-%d %H:%M:%S')})")


if __name__ == "__main__":
    main()
