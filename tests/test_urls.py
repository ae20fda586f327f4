"""The URL configuration: every route name means one route."""

from __future__ import annotations

from collections import Counter

from django.urls import URLPattern, URLResolver, get_resolver


def _names(patterns: list[URLPattern | URLResolver], prefix: str = "") -> list[str]:
    names: list[str] = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            namespace = f"{pattern.namespace}:" if pattern.namespace else ""
            names += _names(pattern.url_patterns, prefix + namespace)
        elif pattern.name:
            names.append(prefix + pattern.name)
    return names


def test_no_two_routes_share_a_name() -> None:
    # A shared name makes {% url %} pick one of them: the Versions tab once linked
    # the API's "workflow-versions" instead of the page.
    counts = Counter(_names(get_resolver().url_patterns))
    assert [name for name, n in counts.items() if n > 1] == []
