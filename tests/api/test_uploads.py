"""Uploaded input files: limits, who may read them, and pdf_to_text reading one.

alice uploads; bob is on her team (he sees the file once he may read a run that
used it); charlie has no access.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import FileResponse

from executions.models import UploadedFile
from executions.steps.base import StepError
from executions.steps.functions import call
from tests.conftest import client_for
from tests.executions.helpers import create_workflow, detail, steps_by_id, wait_terminal

PDF = (Path(__file__).resolve().parent.parent / "fixtures" / "hello.pdf").read_bytes()

PDF_WORKFLOW: dict[str, Any] = {
    "name": "Read a paper",
    "input_schema": {"paper": {"type": "file", "description": "An uploaded PDF"}},
    "steps": [
        {
            "id": "extract_text",
            "type": "data_processing",
            "function": "pdf_to_text",
            "input": "${workflow.input.paper}",
        }
    ],
}


def upload(user: Any, content: bytes = PDF, name: str = "paper.pdf", **extra: Any) -> Any:
    file = SimpleUploadedFile(name, content, content_type="application/pdf")
    return client_for(user).post("/api/v1/files", {"file": file, **extra}, format="multipart")


def uploaded_id(user: Any, content: bytes = PDF) -> str:
    response = upload(user, content)
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_upload_stores_the_file_under_the_media_root(alice: Any, settings: Any) -> None:
    response = upload(alice, name="../../etc/My Paper.pdf")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"].startswith("file_")
    assert body["name"] == "My Paper.pdf"
    assert body["size"] == len(PDF)
    assert body["content_type"] == "application/pdf"
    assert {"created_at", "sha256"} <= set(body)
    record = UploadedFile.objects.get(public_id=body["id"])
    path = Path(record.file.path).resolve()
    assert path.is_relative_to((Path(settings.MEDIA_ROOT) / "files").resolve())
    assert path.name == body["id"]  # nothing the uploader chose is in the path
    assert path.read_bytes() == PDF


def test_my_uploads_are_listed(alice: Any, charlie: Any) -> None:
    file_id = uploaded_id(alice)
    assert [f["id"] for f in client_for(alice).get("/api/v1/files").json()] == [file_id]
    assert client_for(charlie).get("/api/v1/files").json() == []


def test_anonymous_may_not_upload(anon_api: Any) -> None:
    file = SimpleUploadedFile("a.pdf", PDF)
    assert anon_api.post("/api/v1/files", {"file": file}, format="multipart").status_code == 401


def test_an_empty_file_is_a_400(alice: Any) -> None:
    response = upload(alice, b"")
    assert response.status_code == 400
    assert response.json() == {"error": "empty_file", "message": "The uploaded file is empty."}


def test_a_missing_file_field_is_a_400(alice: Any) -> None:
    response = client_for(alice).post("/api/v1/files", {"other": "x"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"] == "missing_file"
    assert "field named 'file'" in response.json()["message"]


def test_a_json_body_is_a_clear_400(alice: Any) -> None:
    response = client_for(alice).post("/api/v1/files", {"file": "x"}, format="json")
    assert response.status_code in (400, 415)
    assert "error" in response.json()


def test_a_file_over_the_limit_is_a_413(alice: Any, settings: Any) -> None:
    settings.PRSM_UPLOAD_MAX_BYTES = 1000
    response = upload(alice, b"%PDF" + b"x" * 1500)
    assert response.status_code == 413
    body = response.json()
    assert body["error"] == "file_too_large"
    assert "at most 1000 bytes" in body["message"] and "PRSM_UPLOAD_MAX_BYTES" in body["message"]
    big = upload(alice, b"%PDF" + b"x" * 200_000)  # refused from its Content-Length
    assert big.status_code == 413 and big.json()["error"] == "file_too_large"
    assert not UploadedFile.objects.exists()


def test_only_the_uploader_may_download_an_unused_file(alice: Any, bob: Any, charlie: Any) -> None:
    file_id = uploaded_id(alice)
    response = client_for(alice).get(f"/api/v1/files/{file_id}")
    assert response.status_code == 200
    assert isinstance(response, FileResponse)
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment")
    for other in (bob, charlie):
        denied = client_for(other).get(f"/api/v1/files/{file_id}")
        assert denied.status_code == 404
        assert denied.json()["error"] == "not_found"
    assert client_for(alice).get("/api/v1/files/file_nonexistent").status_code == 404
    assert client_for(None).get(f"/api/v1/files/{file_id}").status_code == 401


def test_someone_elses_file_cannot_be_an_input(alice: Any, charlie: Any) -> None:
    file_id = uploaded_id(alice)
    wf = create_workflow(charlie, PDF_WORKFLOW)
    response = client_for(charlie).post(
        f"/api/v1/workflows/{wf}/execute", {"inputs": {"paper": file_id}}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "inputs_invalid"
    assert body["errors"][0]["input"] == "paper"
    assert f"no uploaded file '{file_id}'" in body["errors"][0]["message"]


def test_pdf_to_text_reads_an_uploaded_pdf_and_readers_of_the_run_may_download_it(
    worker: Any, alice: Any, bob: Any, charlie: Any
) -> None:
    file_id = uploaded_id(alice)
    wf = create_workflow(alice, PDF_WORKFLOW)
    client_for(alice).post(f"/api/v1/workflows/{wf}/permissions", {"read": ["bob"]}, format="json")
    response = client_for(alice).post(
        f"/api/v1/workflows/{wf}/execute", {"inputs": {"paper": file_id}}, format="json"
    )
    assert response.status_code == 201, response.content
    ex = response.json()["execution_id"]
    assert wait_terminal(ex).status == "completed", detail(alice, wf, ex)
    assert steps_by_id(detail(alice, wf, ex))["extract_text"]["result"] == "Hello PRSM workflows"

    assert client_for(bob).get(f"/api/v1/files/{file_id}").status_code == 200
    assert client_for(charlie).get(f"/api/v1/files/{file_id}").status_code == 404


def test_a_step_cannot_read_a_file_its_execution_was_not_given(worker: Any, alice: Any) -> None:
    file_id = uploaded_id(alice)
    definition = {
        "name": "Sneaky",
        "steps": [
            {"id": "read", "type": "data_processing", "function": "pdf_to_text", "input": file_id}
        ],
    }
    wf = create_workflow(alice, definition)
    ex = (
        client_for(alice)
        .post(f"/api/v1/workflows/{wf}/execute", {}, format="json")
        .json()["execution_id"]
    )
    assert wait_terminal(ex).status == "failed"
    step = steps_by_id(detail(alice, wf, ex))["read"]
    assert step["error"]["type"] == "invalid_input"
    assert "among this execution's inputs" in step["error"]["message"]


def test_stored_uploads_cannot_be_read_by_path(alice: Any, settings: Any) -> None:
    file_id = uploaded_id(alice)
    settings.PRSM_UPLOADS_DIR = str(settings.MEDIA_ROOT)  # even a too-wide uploads dir
    path = UploadedFile.objects.get(public_id=file_id).file.path
    with pytest.raises(StepError) as info:
        call("pdf_to_text", path, {})
    assert info.value.error_type == "invalid_input"
    assert "name it by its id" in info.value.message
    with pytest.raises(StepError) as outside_a_run:
        call("pdf_to_text", file_id, {})
    assert "only be read by the executions" in outside_a_run.value.message
