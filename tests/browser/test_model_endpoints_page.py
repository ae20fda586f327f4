"""The Models page's endpoint form in a real browser: alice adds an OpenAI-compatible
endpoint for her team with an API key, tests the connection against a loopback
server that accepts only that key, and finds the model in the catalog.

Real Daphne (one of its own, allowed to reach 127.0.0.1 through
PRSM_OUTBOUND_ALLOWLIST, as a lab's server with a GPU box on its LAN would be) and
Chromium; the model server is a real HTTP server on loopback.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from executions.crypto import decrypt_json
from tests.browser.conftest import sign_in
from tests.executions.test_providers import FakeServer
from tests.executions.test_providers import keyed_server as keyed_server  # the fixture
from tests.live_server import DaphneServer
from workflows.models import ModelEndpoint

TIMEOUT = 30_000  # ms: a busy machine, not a speed assertion
KEY = "sk-lab-stored"  # what keyed_server accepts


@pytest.fixture(scope="module")
def allowlisted_daphne(django_db_setup: Any, redis_server: Any) -> Iterator[DaphneServer]:
    server = DaphneServer.start(extra_env={"PRSM_OUTBOUND_ALLOWLIST": "127.0.0.1"})
    yield server
    server.stop()


def test_adding_an_endpoint_through_the_form(
    page: Any,
    allowlisted_daphne: DaphneServer,
    transactional_db: Any,
    keyed_server: FakeServer,
    make_user: Any,
) -> None:
    base = allowlisted_daphne.url("", scheme="http").rstrip("/")
    alice = make_user("alice")
    lab = Group.objects.create(name="lab")
    alice.groups.add(lab)

    # When alice adds an endpoint for her team on the Models page
    sign_in(page, base, alice)
    page.goto(f"{base}/models/")
    page.get_by_role("button", name="Add an endpoint").click()
    form = page.get_by_test_id("endpoint-form")
    expect(form.get_by_test_id("api-key-state")).to_have_text("(not set)")
    form.get_by_label("Model name").fill("lab/keyed")
    form.get_by_label("Base URL").fill(keyed_server.base_url)
    form.get_by_label("API key").fill(KEY)
    form.get_by_label("Input price per 1k tokens").fill("0.5")
    form.get_by_label("Output price per 1k tokens").fill("1.5")
    expect(form.get_by_label("Who may use it")).to_have_value(str(lab.pk))
    form.get_by_role("button", name="Add endpoint").click()

    # Then it is saved with the key encrypted, and the page shows only that a key is set
    expect(form.get_by_test_id("endpoint-saved")).to_be_visible(timeout=TIMEOUT)
    expect(form.get_by_test_id("api-key-state")).to_have_text("(set)")
    expect(form.get_by_label("API key")).to_have_value("")
    row = ModelEndpoint.objects.get(name="lab/keyed")
    assert row.team_id == lab.pk
    assert KEY not in row.api_key_encrypted and decrypt_json(row.api_key_encrypted) == KEY
    assert KEY not in page.content()

    # And testing the connection sends the stored key and shows the answer
    form.get_by_role("button", name="Test connection").click()
    answer = form.get_by_test_id("model-test-result")
    expect(answer).to_have_attribute("data-ok", "true", timeout=TIMEOUT)
    expect(answer).to_contain_text("keyed answer")
    assert [r["auth"] for r in keyed_server.requests] == [f"Bearer {KEY}"]

    # And the model is in the catalog, for her team, at its prices
    catalog_row = page.locator('[data-testid="model-row"][data-name="lab/keyed"]')
    expect(catalog_row).to_contain_text("team lab", timeout=TIMEOUT)
    expect(catalog_row).to_contain_text("$0.5")
    expect(catalog_row).to_contain_text("$1.5")

    # And after a reload the listed endpoint still says only "key set"
    page.reload()
    listed = page.locator('[data-testid="endpoint-row"][data-name="lab/keyed"]')
    expect(listed).to_contain_text("key set", timeout=TIMEOUT)
    assert KEY not in page.content()
