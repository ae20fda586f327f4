"""The Models page in a real browser: what each model does, and a Test button that
sends one tiny request and shows the answer or the error a step would get.

Real Daphne and Chromium. alice is an ordinary user; her team has a model endpoint on
a loopback address the server may not reach (no PRSM_OUTBOUND_ALLOWLIST), so its test
shows the mapped error.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from workflows.models import ModelEndpoint

TIMEOUT = 30_000  # ms: a busy machine, not a speed assertion


def test_models_page_describes_each_model_and_tests_it(
    page: Any, base_url_for: Any, make_user: Any
) -> None:
    # Given alice, whose team has an endpoint on a loopback server
    alice = make_user("alice")
    lab = Group.objects.create(name="lab")
    alice.groups.add(lab)
    ModelEndpoint.objects.create(
        name="lab/llama", provider="openai", base_url="http://127.0.0.1:9/v1", team=lab
    )

    # When she opens Models from the main navigation
    sign_in(page, base_url_for("").rstrip("/"), alice)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Models").click()
    vader = page.locator('[data-testid="model-row"][data-name="builtin/sentiment-vader"]')
    expect(vader).to_contain_text("VADER", timeout=TIMEOUT)
    phrases = page.locator('[data-testid="model-row"][data-name="builtin/capitalized-phrases"]')
    expect(phrases).to_contain_text("not typed entities")
    expect(page.locator('[data-testid="model-row"][data-name="builtin/entities"]')).to_have_count(0)
    lab_row = page.locator('[data-testid="model-row"][data-name="lab/llama"]')
    expect(lab_row).to_contain_text("team lab")

    # Then testing the built-in model shows its answer
    vader.get_by_role("button", name="Test builtin/sentiment-vader").click()
    answer = vader.get_by_test_id("model-test-result")
    expect(answer).to_have_attribute("data-ok", "true", timeout=TIMEOUT)
    expect(answer).to_contain_text("Answered:")

    # And testing the endpoint shows the error a step would get, and what fixes it
    lab_row.get_by_role("button", name="Test lab/llama").click()
    error = lab_row.get_by_test_id("model-test-result")
    expect(error).to_have_attribute("data-ok", "false", timeout=TIMEOUT)
    expect(error).to_contain_text("model_unavailable")
    expect(error).to_contain_text("PRSM_OUTBOUND_ALLOWLIST")
