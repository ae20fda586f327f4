"""Every page with production settings: ``DEBUG=0``, the collected, hashed static
build (WhiteNoise's manifest storage), secure defaults relaxed only for plain HTTP
on loopback.

A page that works only in development (a missing manifest entry, a bundle that
throws once minified, a React tree that breaks without development checks) fails
here. Each page must answer below 400, draw what it is for, and log no error in the
browser console and no uncaught exception.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.engine import ROOT, child_env
from tests.executions.helpers import create_workflow, execute, wait_terminal
from tests.live_server import DaphneServer

TIMEOUT = 20_000

# A run with a plain step, a conditional and a loop: the shapes the run page draws.
DEFINITION: dict[str, Any] = {
    "name": "Production smoke",
    "steps": [
        {"id": "clean", "type": "data_processing", "function": "clean_text", "input": "A  b"},
        {
            "id": "check",
            "type": "conditional",
            "condition": "${workflow.input.n} > 1",
            "if_true": {"type": "data_processing", "function": "noop", "input": "yes"},
            "if_false": {"type": "data_processing", "function": "noop", "input": "no"},
        },
        {
            "id": "each",
            "type": "loop",
            "iterate_over": ["p", "q"],
            "step": {
                "type": "data_processing",
                "function": "clean_text",
                "input": "${loop.current_item}",
            },
            "depends_on": ["clean"],
        },
    ],
}


def production_env() -> dict[str, str]:
    """What a production instance sets, less TLS (the test speaks HTTP on loopback).
    The encryption keys are the test process's, so the server opens what the worker sealed."""
    return {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "PRSM_ENCRYPTION_KEYS": ",".join(settings.PRSM_ENCRYPTION_KEYS),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
    }


@pytest.fixture(scope="session")
def production_daphne(django_db_setup: Any, redis_server: Any) -> Iterator[DaphneServer]:
    env = production_env()
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=child_env(**env),
        check=True,
    )
    server = DaphneServer.start(extra_env=env)
    yield server
    server.stop()


@pytest.fixture
def production(production_daphne: DaphneServer, transactional_db: Any) -> DaphneServer:
    if not production_daphne.is_alive():
        pytest.fail(f"the production server died:\n{production_daphne.log()}")
    return production_daphne


def test_every_page_works_with_debug_off(
    page: Any, production: DaphneServer, worker: Any, make_user: Any
) -> None:
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text} at {m.location.get('url')}")
            if m.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} for {r.url}") if r.status >= 400 else None,
    )
    base = production.url("", scheme="http").rstrip("/")
    dana = make_user("dana")
    workflow_id = create_workflow(dana, DEFINITION)
    execution_id = execute(dana, workflow_id, inputs={"n": 2})
    assert wait_terminal(execution_id).status == "completed"
    sign_in(page, base, dana)

    def visit(path: str, shows: str) -> None:
        response = page.goto(f"{base}{path}")
        assert response is not None and response.status < 400, f"{path}: {response}"
        policy = response.headers.get("content-security-policy", "")
        script_src = next((d for d in policy.split(";") if d.strip().startswith("script-src ")), "")
        assert script_src.split()[1:2] == ["'self'"], f"{path}: script-src in {policy!r}"
        assert "unsafe-inline" not in script_src, f"{path}: inline script allowed: {policy!r}"
        try:
            expect(page.locator(shows).first).to_be_visible(timeout=TIMEOUT)
            page.wait_for_load_state("networkidle")
        except AssertionError as exc:
            raise AssertionError(f"{path} shows no {shows!r}; the browser saw {problems}") from exc
        assert problems == [], f"{path}: {problems}"

    visit("/", "table")
    visit("/templates/", "main")
    visit("/workflows/new/", ".react-flow__node, .react-flow")
    visit(f"/workflows/{workflow_id}/", ".react-flow__node")
    expect(page.locator(".react-flow__node:not(.react-flow__node-inner)")).to_have_count(3)
    # The conditional's two branches and the loop's body, drawn inside their groups.
    expect(page.locator(".react-flow__node-inner")).to_have_count(3)
    page.get_by_role("button", name="Code").click()  # CodeMirror, loaded on demand
    expect(page.locator(".cm-content")).to_contain_text('"each"', timeout=TIMEOUT)
    visit(f"/workflows/{workflow_id}/runs/", "table")
    visit(f"/workflows/{workflow_id}/runs/{execution_id}/", "[data-step-id]")
    nodes = page.locator("[data-step-id]")
    expect(nodes).to_have_count(3)
    for step in ("clean", "check", "each"):
        expect(page.locator(f'[data-step-id="{step}"]')).to_have_attribute(
            "data-status", "completed", timeout=TIMEOUT
        )
    expect(page.get_by_test_id("gantt").locator("canvas").first).to_be_visible(timeout=TIMEOUT)
    visit(f"/workflows/{workflow_id}/versions/", "main")
    visit(f"/workflows/{workflow_id}/sharing/", "main")
    visit(f"/workflows/{workflow_id}/analytics/", "main")
    visit("/settings/tokens/", "main")
    visit("/teams/", "main")
    visit("/usage/", "main")
    visit("/models/", "main")
    visit("/audit/", "main")
    visit("/api/docs/", "#swagger-ui")
    expect(page.locator("#swagger-ui .information-container")).to_be_visible(timeout=TIMEOUT)

    # What staff alone sees: the workers view and Django's admin.
    page.context.clear_cookies()
    sign_in(page, base, make_user("sam", is_staff=True, is_superuser=True))
    visit("/workers/", "main")
    visit("/admin/", "#content")
    visit("/admin/workflows/workflow/", "#result_list")
    assert problems == [], problems
