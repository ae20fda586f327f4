"""The OpenAPI schema is valid with no warnings, and Swagger UI is self-hosted."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

from django.core.management import call_command


def test_schema_generates_and_validates_without_warnings(db: Any, capsys: Any) -> None:
    out = StringIO()
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out
    )
    assert '"/api/v1/workflows' in out.getvalue()
    captured = capsys.readouterr()
    assert "Warning" not in captured.err
    assert "Error" not in captured.err


def test_swagger_ui_loads_no_cdn_assets(client: Any, db: Any) -> None:
    page = client.get("/api/docs/")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.content.decode())
    assert sources, "the page should reference its assets"
    assert all(not s.startswith(("http://", "https://", "//")) for s in sources), sources


def test_schema_endpoint_serves_openapi_3(client: Any, db: Any) -> None:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")
