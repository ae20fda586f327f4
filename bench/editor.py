"""Browser app speed in headless Chromium. Not a test.

    .venv/bin/python bench/editor.py        (after `make install`; needs /usr/bin/chromium)

Runs on the embedded stack in a throwaway directory (SQLite, embedded Redis, one
Daphne process) and measures, each beside a baseline taken in the same run:

- **Opening the editor**: from navigation start to the editor's
  ``prsm:editor-interactive`` mark (canvas drawn, handlers attached), for a
  500-step workflow with saved positions, the same without positions (auto-layout
  in the worker), and a 10-step baseline. Median of several loads each.
- **A burst of 100 status events** on the run page of a 500-step execution: 100
  steps change state in one transaction, pushed over the websocket; it prints how
  long until all 100 nodes show their new status, and how many node components
  re-rendered (``window.__prsmNodeRenders``) against the 100 that changed. The
  baseline is one event on its own.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VAR = tempfile.mkdtemp(prefix="prsm-bench-editor-")
for name in ("DATABASE_URL", "REDIS_URL"):
    os.environ.pop(name, None)  # the embedded stack, whatever the shell has
os.environ["PRSM_VAR_DIR"] = VAR
# Playwright's sync API keeps an event loop in this thread; our ORM calls are plain
# synchronous calls all the same.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prsm_site.settings")

import django

django.setup()

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from playwright.sync_api import sync_playwright

from executions.models import StepRun, StepStatus
from executions.services import transitions
from executions.services.lifecycle import execution_start
from executions.services.tx import Tx
from prsm_site.embedded import start_redis
from workflows import services
from workflows.definition_checks import definition_require_valid

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "bench-password-1"
LOADS = 5


def _definition(n: int, *, positions: bool) -> dict:
    """``n`` steps in layers of 10, each depending on one step of the layer before."""
    steps = []
    for i in range(n):
        step = {"id": f"s{i}", "type": "data_processing", "function": "noop", "input": i}
        if i >= 10:
            step["depends_on"] = [f"s{i - 10 + (i % 3) % 10}"]
        steps.append(step)
    doc: dict = {"name": f"bench {n} steps", "steps": steps}
    if positions:
        doc["ui"] = {
            "nodes": {f"s{i}": {"x": (i % 10) * 260, "y": (i // 10) * 140} for i in range(n)}
        }
    return doc


def _workflow(user, document: dict):
    checked = definition_require_valid(document, user=user)
    return services.workflow_create(
        owner=user, definition=checked.definition, document=checked.document
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "prsm_site.asgi:application",
        ],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=open(Path(VAR) / "daphne.log", "wb"),  # noqa: SIM115 - lives as long as the server
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    sys.exit("daphne did not start")


def _open_editor(page, url: str) -> float:
    page.goto(url)
    page.wait_for_function("document.body.dataset.editorReady === 'true'", timeout=30_000)
    return page.evaluate("performance.getEntriesByName('prsm:editor-interactive')[0].startTime")


def _burst(page, execution, runs: list[StepRun], status: str) -> tuple[float, int, int]:
    """Move ``runs`` to ``status`` in one transaction (a move the transition table
    allows from where they are); wait until the page shows it."""
    page.evaluate("window.__prsmNodeRenders = {}")
    selector = " , ".join(f'[data-step-id="{r.key}"][data-status="{status}"]' for r in runs)
    start = time.perf_counter()
    with transaction.atomic():
        tx = Tx.lock(execution.pk)
        for run in runs:
            transitions.step_move(tx, run, status, f"step.{status}")
        tx.flush()
    page.wait_for_function(
        f"document.querySelectorAll({selector!r}).length === {len(runs)}", timeout=30_000
    )
    elapsed = (time.perf_counter() - start) * 1000
    renders = page.evaluate("window.__prsmNodeRenders || {}")
    return elapsed, len(renders), sum(renders.values())


def main() -> None:
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: `make chromium` installs it")
    call_command("migrate", verbosity=0)
    redis = start_redis(settings.EMBEDDED_REDIS_SOCKET)
    user = get_user_model().objects.create_user("bench", password=PASSWORD)
    small = _workflow(user, _definition(10, positions=True))
    big = _workflow(user, _definition(500, positions=True))
    big_unplaced = _workflow(user, _definition(500, positions=False))
    execution = execution_start(workflow=big, user=user, inputs={}, config={})  # no worker
    port = _free_port()
    server = _serve(port)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(f"{base}/accounts/login/")
            page.get_by_label("Username").fill("bench")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(lambda url: "/accounts/login" not in url)

            opened = {}
            for label, wf in (("10", small), ("500", big), ("500 no pos", big_unplaced)):
                url = f"{base}/workflows/{wf.public_id}/"
                _open_editor(page, url)  # warm the cache
                opened[label] = statistics.median(_open_editor(page, url) for _ in range(LOADS))

            page.goto(f"{base}/workflows/{big.public_id}/runs/{execution.public_id}/")
            page.wait_for_function("document.body.dataset.runReady === 'true'", timeout=30_000)
            runs = list(StepRun.objects.filter(execution=execution).order_by("id"))
            page.wait_for_timeout(1500)  # the canvas's first measuring renders settle
            # Steps past the first layer stay pending (no worker runs the first);
            # each burst moves some of them to ready, a move the table allows.
            _burst(page, execution, runs[10:11], StepStatus.READY)  # warm-up
            one = _burst(page, execution, runs[11:12], StepStatus.READY)
            hundred = _burst(page, execution, runs[100:200], StepStatus.READY)
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
        if redis is not None:
            redis.terminate()
        shutil.rmtree(VAR, ignore_errors=True)

    print(f"{'editor: open until interactive':40}{'ms':>10}{'vs 10 steps':>14}")
    for label, ms in opened.items():
        print(f"{label + ' steps':40}{ms:10.0f}{ms / opened['10']:13.2f}x")
    print()
    print(f"{'run page: status burst':40}{'ms':>10}{'nodes rendered':>16}{'renders':>10}")
    for label, (ms, nodes, total) in (("1 event", one), ("100 events", hundred)):
        print(f"{label:40}{ms:10.0f}{nodes:16d}{total:10d}")
    print(
        f"100-event burst: {hundred[1]} node components re-rendered for 100 changed "
        f"(of 500 on the page); {hundred[0] / max(one[0], 1):.2f}x the time of one event"
    )


if __name__ == "__main__":
    main()
