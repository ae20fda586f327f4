"""The API against its own OpenAPI schema, fuzzed by schemathesis (issue 13, items 5 and 6).

Every operation of the schema drf-spectacular generates is called in-process through
Django's WSGI handler (the same views, middleware and PostgreSQL as in production),
with generated valid and invalid requests, once with an API token and once without.
All of schemathesis' checks run on every answer: no server error, every status code
and content type documented, every body matching its documented schema, invalid data
refused and valid data accepted.

Bounded: ``EXAMPLES`` generated cases per operation and per caller, derandomized so a
failure reproduces. See docs/development.md for the count and the time it takes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from workflows.tokens import api_token_create

EXAMPLES = 15

# Requests whose meaning is checked past what JSON Schema can say: a definition's
# references, cycles and step count; inputs against the workflow's own input schema;
# names of users and teams that must exist, a new team's name that must be unused (in
# any case); a window given both as a timeframe and as start/end, or ending before it
# starts. A schema-valid request may rightly be a 400 there, so "valid data is
# accepted" does not apply; every other check does.
CHECKED_BEYOND_THE_SCHEMA = {
    "POST /api/v1/workflows/",
    "PUT /api/v1/workflows/{workflow_id}/",
    "POST /api/v1/workflows/import/",
    "POST /api/v1/templates/",
    "POST /api/v1/templates/{template_id}/instantiate/",
    "POST /api/v1/workflows/{workflow_id}/execute/",
    "POST /api/v1/workflows/{workflow_id}/test/",
    "POST /api/v1/workflows/{workflow_id}/permissions/",
    "POST /api/v1/teams/",
    "POST /api/v1/teams/{id}/members/",
    "GET /api/v1/workflows/{workflow_id}/analytics/",
    "GET /api/v1/workflows/resource-usage/",
}

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = get_wsgi_application()  # every request, probes included, goes in-process
# The coverage phase enumerates boundary values of every schema without a bound: for
# the definition document (hundreds of nested fields) that alone takes minutes. The
# examples and fuzzing phases, bounded by EXAMPLES, stay on.
schema.config.phases.coverage.enabled = False
# A NUL anywhere in a body (a key included) is a 400 by design (PostgreSQL cannot store
# it), which JSON Schema cannot say of every nested key; tests/api/test_no_server_errors
# covers it. Query parameters say it with a pattern, so NULs still reach those.
schema.config.generation.allow_x00 = False


@pytest.fixture
def wsgi_requests_share_the_test_transaction() -> Iterator[None]:
    """Keep Django from closing the test's connection at the end of each request.

    Django's own test client does the same: a request's end closes a connection that
    is inside a transaction, and the test's data lives in one.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def caller_headers(request: Any, django_user_model: Any) -> dict[str, str]:
    if request.param == "anonymous":
        return {}
    user = django_user_model.objects.create_user("fuzz", email="fuzz@example.org")
    return {"Authorization": f"Bearer {api_token_create(user=user, name='fuzz').key}"}


@pytest.mark.django_db
@pytest.mark.usefixtures("wsgi_requests_share_the_test_transaction")
@pytest.mark.parametrize("caller_headers", ["token", "anonymous"], indirect=True)
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case: Any, caller_headers: dict[str, str]) -> None:
    excluded = []
    if f"{case.method} {case.path}" in CHECKED_BEYOND_THE_SCHEMA:
        excluded.append(positive_data_acceptance)
    case.call_and_validate(
        base_url="http://localhost", headers=caller_headers, excluded_checks=excluded
    )
