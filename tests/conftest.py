"""Shared fixtures: the people of the permission tests and API clients for them.

alice owns workflows; bob is on alice's team "researchers"; charlie has no access.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from workflows.tokens import api_token_create

SIMPLE_DEFINITION: dict[str, Any] = {
    "name": "Simple",
    "steps": [
        {
            "id": "clean",
            "type": "data_processing",
            "function": "clean_text",
            "input": "${workflow.input.text}",
        },
        {
            "id": "summary",
            "type": "inference",
            "model": "builtin/extractive-summary",
            "input": "${clean.result}",
        },
    ],
}


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop running in the
    main thread from its first use to the end of the session, and the websocket
    tests that follow would find ``asyncio.run`` refused."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid)


_worker_started = False  # set once the session's Celery worker runs


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: Any, nextitem: Any) -> Any:
    """Before a committing test's database is flushed, end any run it left open.

    The session's worker outlives the test that started it; a later test that
    commits a run without asking for ``worker`` would otherwise have its steps run
    while its tables are truncated (a deadlock, and the next test finds its rows).
    """
    marker = item.get_closest_marker("django_db")
    commits = "transactional_db" in item.fixturenames or bool(
        marker and (marker.kwargs.get("transaction") or marker.args[:1] == (True,))
    )
    if _worker_started and commits and "worker" not in item.fixturenames:
        from executions.models import EXECUTION_TERMINAL, Execution
        from tests.engine import stop_open_executions, wait_worker_idle

        if Execution.objects.exclude(status__in=EXECUTION_TERMINAL).exists():
            stop_open_executions()
            wait_worker_idle()
    return (yield)


@pytest.fixture(autouse=True)
def _failed_api_keys_forgotten() -> Any:
    """Failed API keys are counted per address in Redis, outside any test's
    transaction; every test's requests come from 127.0.0.1. Forget them after each
    test, so the guessing limit (workflows.ratelimit) is never reached by accident."""
    yield
    from django.conf import settings

    if settings.REDIS_URL or settings.EMBEDDED_REDIS_SOCKET.exists():
        from workflows.ratelimit import bearer_failures_reset

        bearer_failures_reset("127.0.0.1")


@pytest.fixture
def team(db: Any) -> Group:
    return Group.objects.create(name="researchers")


def _user(django_user_model: Any, name: str, **extra: Any) -> Any:
    return django_user_model.objects.create_user(name, password=f"{name}-pw-123!", **extra)


@pytest.fixture
def alice(django_user_model: Any, team: Group) -> Any:
    user = _user(django_user_model, "alice")
    user.groups.add(team)
    return user


@pytest.fixture
def bob(django_user_model: Any, team: Group) -> Any:
    user = _user(django_user_model, "bob")
    user.groups.add(team)
    return user


@pytest.fixture
def charlie(django_user_model: Any) -> Any:
    return _user(django_user_model, "charlie")


def client_for(user: Any | None) -> APIClient:
    client = APIClient()
    if user is not None:
        key = api_token_create(user=user, name="test").key
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def api_for():
    return client_for


@pytest.fixture
def alice_api(alice: Any) -> APIClient:
    return client_for(alice)


@pytest.fixture
def anon_api() -> APIClient:
    return APIClient()


@pytest.fixture
def simple_definition() -> dict[str, Any]:
    import copy

    return copy.deepcopy(SIMPLE_DEFINITION)


@pytest.fixture
def alice_workflow(alice_api: APIClient, simple_definition: dict[str, Any]) -> str:
    response = alice_api.post("/api/v1/workflows", simple_definition, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


# --- the real engine: Redis and a Celery worker process --------------------------------


@pytest.fixture(scope="session")
def redis_server():
    """The Redis the tests' broker and channel layer use: REDIS_URL, else an embedded one."""
    from django.conf import settings

    from prsm_site.embedded import start_redis

    process = None if settings.REDIS_URL else start_redis(settings.EMBEDDED_REDIS_SOCKET)
    yield
    if process is not None:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup: Any, redis_server: Any):
    from tests.engine import Worker, purge_queues

    global _worker_started
    purge_queues()
    # http_get may reach the tests' loopback servers (they stand for outside services)
    worker = Worker(concurrency=2, extra_env={"PRSM_OUTBOUND_ALLOWLIST": "127.0.0.1"})
    _worker_started = True
    yield worker
    worker.stop()


@pytest.fixture
def worker(celery_worker_process: Any, transactional_db: Any) -> Any:
    """A running worker; the test's writes are committed so the worker sees them.

    Afterwards, whatever the test left running is cancelled and the worker drained,
    so it writes nothing while the database is flushed for the next test.
    """
    from tests.engine import stop_open_executions, wait_worker_idle

    if celery_worker_process.process.poll() is not None:
        pytest.fail(f"the celery worker died:\n{celery_worker_process.log()}")
    yield celery_worker_process
    stop_open_executions()
    wait_worker_idle()


# --- a real ASGI server (Daphne) for websocket tests ------------------------------------


@pytest.fixture(scope="session")
def daphne_process(django_db_setup: Any, redis_server: Any) -> Any:
    from tests.live_server import DaphneServer

    server = DaphneServer.start()
    yield server
    server.stop()


@pytest.fixture
def server(daphne_process: Any, transactional_db: Any) -> Any:
    """The running server; the test's rows are committed, so the server sees them.

    What the server logged during the test is printed at teardown, so pytest shows
    it under a failing test's captured output.
    """
    if not daphne_process.is_alive():
        pytest.fail(
            f"the daphne server died (exit code {daphne_process.process.returncode}; "
            f"negative: killed by that signal):\n{daphne_process.log()}"
        )
    log_path = daphne_process.workdir / "daphne.log"
    offset = log_path.stat().st_size
    yield daphne_process
    from tests.engine import wait_database_quiet

    wait_database_quiet()  # the server's last answer is written before the flush
    with open(log_path, "rb") as log:
        log.seek(offset)
        logged = log.read().decode(errors="replace")
    if logged.strip():
        print(f"--- daphne logged during this test ---\n{logged[-8000:]}")
