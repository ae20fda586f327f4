"""Uploads on S3-compatible storage, read by a step on a worker that shares no disk
with the web: against moto's standalone S3 server, started here on loopback."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.conf import settings as django_settings
from django.http import FileResponse

from executions.models import StepRun, UploadedFile
from prsm_site.env import storage_from_url
from tests.api.test_uploads import PDF, PDF_WORKFLOW, upload
from tests.conftest import client_for
from tests.engine import ROOT, Worker, wait_for
from tests.executions.helpers import create_workflow, detail, execute, steps_by_id, wait_terminal

BUCKET = "prsm-files"
PREFIX = "lab"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test-key", "AWS_SECRET_ACCESS_KEY": "test-secret"}
QUEUE = "elsewhere"  # only the test's own "other host" worker consumes it


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a loopback port the kernel picks."""
    log = tempfile.NamedTemporaryFile(prefix="moto-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        match = wait_for(
            lambda: re.search(r"Running on (http://127\.0\.0\.1:\d+)", Path(log.name).read_text()),
            timeout=30,
            message="moto's S3 server to listen",
        )
        yield match.group(1)
    finally:
        process.terminate()
        process.wait(10)
        log.close()
        Path(log.name).unlink(missing_ok=True)


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: Any) -> Iterator[Any]:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _url(endpoint: str, bucket: str = BUCKET) -> str:
    return f"s3://{bucket}/{PREFIX}?endpoint={endpoint}&region=us-east-1&addressing=path"


@pytest.fixture
def s3_storage(s3_bucket: Any, s3_endpoint: str, settings: Any) -> str:
    """This (web) process stores uploads on the S3 server."""
    url = _url(s3_endpoint)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": storage_from_url(url),
    }
    settings.PRSM_WORKER_QUEUES = [
        {"name": "default", "cpu_cores": 16, "ram_gb": 64},
        {"name": QUEUE, "cpu_cores": 55, "ram_gb": 64},
    ]
    return url


@pytest.fixture
def other_host() -> Iterator[Any]:
    """Start a worker with a var directory (and media root) of its own: no disk in
    common with the web. Its directory goes afterwards."""
    made: list[str] = []

    def start(**env: str) -> Worker:
        made.append(tempfile.mkdtemp(prefix="prsm-other-host-"))
        return _other_host(made[-1], **env)

    yield start
    for var_dir in made:
        shutil.rmtree(var_dir, ignore_errors=True)


def _other_host(var_dir: str, **env: str) -> Worker:
    return Worker(
        concurrency=1,
        queues=QUEUE,
        extra_env={
            "PRSM_VAR_DIR": var_dir,
            # the same broker as the web's: the embedded one lives in the web's var dir
            "REDIS_URL": django_settings.REDIS_URL
            or f"unix://{django_settings.EMBEDDED_REDIS_SOCKET}",
            "PRSM_ENCRYPTION_KEYS": ",".join(django_settings.PRSM_ENCRYPTION_KEYS),
            **CREDENTIALS,
            **env,
        },
    )


def _pdf_workflow(alice: Any) -> str:
    return create_workflow(
        alice, {**PDF_WORKFLOW, "resource_requirements": {"cpu_cores": 55}, "name": "elsewhere"}
    )


def test_an_upload_is_stored_in_the_bucket_and_downloaded_from_it(
    s3_storage: str, s3_bucket: Any, alice: Any
) -> None:
    response = upload(alice)
    assert response.status_code == 201, response.content
    file_id = response.json()["id"]
    keys = [o["Key"] for o in s3_bucket.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert len(keys) == 1 and keys[0].startswith(f"{PREFIX}/files/")
    assert keys[0].endswith(f"/{file_id}")  # nothing the uploader chose is in the key
    assert s3_bucket.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read() == PDF

    download = client_for(alice).get(f"/api/v1/files/{file_id}")
    assert download.status_code == 200
    assert isinstance(download, FileResponse)
    assert b"".join(download.streaming_content) == PDF


def test_a_step_on_another_host_reads_the_upload_from_the_bucket(
    celery_worker_process: Any,
    transactional_db: Any,
    s3_storage: str,
    alice: Any,
    other_host: Any,
) -> None:
    file_id = upload(alice).json()["id"]
    wf = _pdf_workflow(alice)
    other = other_host(PRSM_STORAGE_URL=s3_storage)
    try:
        ex = execute(alice, wf, inputs={"paper": file_id})
        assert wait_terminal(ex).status == "completed", other.log()
    finally:
        other.stop()
    assert steps_by_id(detail(alice, wf, ex))["extract_text"]["result"] == "Hello PRSM workflows"
    assert StepRun.objects.get(execution__public_id=ex).worker_host.startswith("test-")


def test_a_worker_without_the_shared_storage_fails_the_step_without_a_server_path(
    celery_worker_process: Any,
    transactional_db: Any,
    s3_storage: str,
    alice: Any,
    other_host: Any,
) -> None:
    file_id = upload(alice).json()["id"]
    wf = _pdf_workflow(alice)
    other = other_host()  # local files: not where the web stored it
    try:
        ex = execute(alice, wf, inputs={"paper": file_id})
        assert wait_terminal(ex).status == "failed"
    finally:
        other.stop()
    step = steps_by_id(detail(alice, wf, ex))["extract_text"]
    message = step["error"]["message"]
    assert step["error"]["type"] == "temporary_failure"
    assert f"could not read uploaded file '{file_id}' (FileNotFoundError)" in message
    assert "PRSM_STORAGE_URL" in message
    assert "/" not in message.replace("/api", "")  # no server path
    assert str(ROOT) not in str(detail(alice, wf, ex))


def test_a_bucket_that_refuses_the_upload_is_a_503_and_nothing_is_saved(
    s3_bucket: Any, s3_endpoint: str, settings: Any, alice: Any
) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": storage_from_url(_url(s3_endpoint, bucket="no-such-bucket")),
    }
    response = upload(alice)
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "storage_unavailable"
    assert "NoSuchBucket" in body["message"] and "no-such-bucket" not in body["message"]
    assert not UploadedFile.objects.exists()


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("ftp://host/x", "neither s3://bucket[/prefix] nor file:///directory"),
        ("s3:///prefix", "names no bucket"),
        ("s3://b?endpont=http://x", "unknown option endpont"),
        ("file://relative/dir", "absolute directory"),
        ("s3://b?addressing=sideways", "addressing is path, virtual or auto"),
    ],
)
def test_a_malformed_storage_url_stops_start_up_naming_it(url: str, error: str) -> None:
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match=re.escape(error)):
        storage_from_url(url)
