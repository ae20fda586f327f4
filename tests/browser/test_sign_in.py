"""Signing in and out through the real pages."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, sign_in


def test_wrong_password_says_so_and_stays_signed_out(page: Any, base_url_for: Any, make_user: Any):
    dana = make_user("dana")
    page.goto(base_url_for("/accounts/login/"))
    page.get_by_label("Username").fill(dana.username)
    page.get_by_label("Password").fill(PASSWORD + "x")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("didn't match")).to_be_visible()
    assert "/accounts/login/" in page.url


def test_user_signs_in_sees_the_styled_app_and_signs_out(
    page: Any, base_url_for: Any, make_user: Any
):
    dana = make_user("dana")
    sign_in(page, base_url_for("").rstrip("/"), dana)
    header = page.get_by_role("banner")
    expect(header.get_by_text("dana")).to_be_visible()
    # The Vite-built stylesheet is served and applied (Tailwind's border colour).
    border = header.evaluate("el => getComputedStyle(el).borderBottomStyle")
    assert border == "solid"
    page.get_by_role("button", name="Sign out").click()
    page.goto(base_url_for("/"))
    assert "/accounts/login/" in page.url
