"""One error table: each domain error answers with its status and code, and nothing
a server fault says (an OS error naming a path) ever reaches a response."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from executions.budgets import BudgetExceeded
from executions.selectors import ExecutionNotFound
from executions.services.lifecycle import ExecutionFinished, InputsInvalid
from tests.conftest import client_for
from workflows.definition.validation import Issue, ValidationReport
from workflows.definition_checks import DefinitionInvalid
from workflows.errors import ActionForbidden, error_answer, error_register
from workflows.selectors import WorkflowNotFound

BROKEN = Issue(severity="error", code="unknown_step", message="Step 'b' is not defined.")


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (DefinitionInvalid(ValidationReport(errors=[BROKEN])), 400, "definition_invalid"),
        (InputsInvalid([{"input": "text", "message": "required"}]), 400, "inputs_invalid"),
        (ActionForbidden("You may not execute this workflow."), 403, "permission_denied"),
        (WorkflowNotFound("wf_x"), 404, "not_found"),
        (ExecutionNotFound("ex_x"), 404, "not_found"),
        (ExecutionFinished("The execution has ended."), 409, "conflict"),
        (
            BudgetExceeded(
                budget=Decimal(1), spent=Decimal(2), resets_at=datetime(2030, 1, 1, tzinfo=UTC)
            ),
            402,
            "budget_exceeded",
        ),
    ],
)
def test_each_domain_error_has_one_answer(error: Exception, status: int, code: str) -> None:
    answer = error_answer(error)
    assert answer is not None
    assert (answer.status, answer.body["error"]) == (status, code)
    assert answer.body["message"]


def test_definition_invalid_lists_each_error() -> None:
    answer = error_answer(DefinitionInvalid(ValidationReport(errors=[BROKEN])))
    assert answer is not None
    assert [e["code"] for e in answer.body["errors"]] == ["unknown_step"]
    assert answer.body["warnings"] == []


def test_os_errors_are_not_domain_errors() -> None:
    assert error_answer(PermissionError(13, "Permission denied", "/work/secret")) is None
    with pytest.raises(ValueError, match="OS error"):
        error_register(PermissionError, status=403, code="permission_denied")


def test_an_os_error_in_an_upload_does_not_leak_the_server_path(alice: Any, settings: Any) -> None:
    # /sys refuses a new directory even to root: storing the file raises PermissionError.
    settings.MEDIA_ROOT = "/sys/prsm-test-no-such-dir/media"
    client = client_for(alice)
    client.raise_request_exception = False
    file = SimpleUploadedFile("paper.pdf", b"%PDF-1.4 hello", content_type="application/pdf")
    response = client.post("/api/v1/files", {"file": file}, format="multipart")
    assert response.status_code == 503  # the storage refused it: said so, as JSON
    assert response.json()["error"] == "storage_unavailable"
    assert "(PermissionError)" in response.json()["message"]
    text = response.content.decode()
    for leak in ("/sys", "/work", "/tmp", "prsm-test", "Errno", "Permission denied"):
        assert leak not in text
