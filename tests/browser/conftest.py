"""Browser tests: Debian's Chromium, driven by Playwright, against the real ASGI server.

pytest-playwright supplies ``browser``/``context``/``page`` and keeps a screenshot
of a failing test under ``test-results/`` (``--screenshot only-on-failure`` in
the pytest options). We only point it at ``/usr/bin/chromium``: nothing is ever
downloaded. The server is the ``server`` fixture of ``tests/conftest.py`` (a real
Daphne process on the test database, websockets included); ``live_app`` adds a
real Celery worker for tests that run workflows.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; the test's own ORM
# calls (creating users, reading results) are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs Debian's package")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1440, "height": 900}}


@pytest.fixture
def _database_quiet_after_browser(transactional_db: Any) -> Any:
    """Set up before the browser, torn down after it: the flush waits for the server.

    Pages are closed when pytest-playwright's ``new_context`` ends; only then is
    the server done answering them, and only then may the database be flushed.
    """
    from tests.engine import wait_database_quiet

    yield
    wait_database_quiet()


@pytest.fixture
def new_context(_database_quiet_after_browser: Any, new_context: Any) -> Any:
    return new_context


@pytest.fixture
def base_url_for(server: Any):
    """``base_url_for("/workflows/")`` → ``http://127.0.0.1:PORT/workflows/``."""
    return lambda path="/": server.url(path, scheme="http")


@pytest.fixture
def live_app(server: Any, worker: Any) -> Any:
    """The server plus a Celery worker process: pages that run workflows."""
    return server


def sign_in(page: Any, base_url: str, user: Any) -> None:
    """Sign in through the real login form (users made by ``make_user`` have PASSWORD)."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login" not in url)


@pytest.fixture
def make_user(django_user_model: Any):
    """``make_user("dana")``: a user whose password is PASSWORD."""

    def make(username: str, **extra: Any) -> Any:
        return django_user_model.objects.create_user(username, password=PASSWORD, **extra)

    return make
