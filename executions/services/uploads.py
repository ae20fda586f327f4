"""Uploaded input files: storing them, who may use and read them.

A file is uploaded once (``POST /api/v1/files`` → ``file_…``) and then named in an
execution's inputs by its id. Access follows the executions that used it: the
uploader, and whoever may read an execution that was given the file. Steps
(``pdf_to_text``) read only files linked to their own execution.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files.base import File

from executions.models import Execution, UploadedFile

FILE_ID = re.compile(r"^file_[a-z2-7]{16}$")
DEFAULT_CONTENT_TYPE = "application/octet-stream"


#: What a storage backend raises when it cannot store or read: the file system's
#: errors, and those of S3-compatible storage (boto3).
STORAGE_ERRORS: tuple[type[Exception], ...] = (OSError, BotoCoreError, ClientError)


class StorageUnavailable(Exception):
    """The file storage cannot store or read a file. The message names the file's
    id and the kind of error, never a server path or a bucket's address."""


def _storage_failure(action: str, public_id: str, exc: Exception) -> StorageUnavailable:
    kind = type(exc).__name__
    if isinstance(exc, ClientError):  # the S3 error code (NoSuchBucket, AccessDenied…)
        kind = str(exc.response.get("Error", {}).get("Code") or kind)
    return StorageUnavailable(
        f"the file storage could not {action} uploaded file '{public_id}' ({kind}); "
        "every machine must use the same storage (PRSM_STORAGE_URL)"
    )


class UploadRejected(Exception):
    """The upload is empty, missing or too large; ``status`` is the HTTP answer."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def upload_max_bytes() -> int:
    return int(getattr(settings, "PRSM_UPLOAD_MAX_BYTES", 25 * 1024 * 1024))


def _clean_name(name: str) -> str:
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return (base or "upload")[:255]


def _clean_type(content_type: str | None) -> str:
    value = (content_type or "").split(";")[0].strip().lower()
    return value[:100] if re.fullmatch(r"[\w.+-]+/[\w.+-]+", value) else DEFAULT_CONTENT_TYPE


def uploaded_file_create(*, owner: Any, upload: Any) -> UploadedFile:
    """Store an uploaded file (a Django ``UploadedFile``) under ``files/`` of the
    default storage (``STORAGES``, set by ``PRSM_STORAGE_URL``).

    Raises ``UploadRejected``: 400 when it is empty, 413 when it is larger than
    ``PRSM_UPLOAD_MAX_BYTES``; ``StorageUnavailable`` when the storage refuses it
    (nothing is saved then).
    """
    limit = upload_max_bytes()
    if upload.size is None or upload.size == 0:
        raise UploadRejected("empty_file", "The uploaded file is empty.")
    if upload.size > limit:
        raise UploadRejected(
            "file_too_large",
            f"The file is {upload.size} bytes; uploads may be at most {limit} bytes "
            "(PRSM_UPLOAD_MAX_BYTES).",
            status=413,
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    record = UploadedFile(
        owner=owner,
        name=_clean_name(upload.name),
        size=upload.size,
        content_type=_clean_type(upload.content_type),
        sha256=digest.hexdigest(),
    )
    try:
        record.file.save(record.public_id, File(upload), save=False)
    except STORAGE_ERRORS as exc:
        raise _storage_failure("store", record.public_id, exc) from None
    record.save()
    return record


def uploaded_file_open(record: UploadedFile) -> Any:
    """The stored content of ``record``, open for reading (a download). Raises
    ``StorageUnavailable``."""
    try:
        return record.file.open("rb")
    except STORAGE_ERRORS as exc:
        raise _storage_failure("read", record.public_id, exc) from None


def file_ids_in(value: Any) -> Iterator[str]:
    """Every ``file_…`` id among the strings of an input value (nested too)."""
    if isinstance(value, str):
        if FILE_ID.match(value.strip()):
            yield value.strip()
    elif isinstance(value, dict):
        for item in value.values():
            yield from file_ids_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from file_ids_in(item)


def files_for_user(user: Any) -> Any:
    """Files the user may read: their uploads, and files of executions they may read."""
    from django.db.models import Q

    from workflows.selectors import workflows_for_user

    readable = Execution.objects.filter(workflow__in=workflows_for_user(user).values("pk"))
    return UploadedFile.objects.filter(
        Q(owner=user)
        | Q(
            pk__in=UploadedFile.executions.through.objects.filter(
                execution__in=readable.values("pk")
            ).values("uploadedfile_id")
        )
    )


def uploaded_file_get(*, user: Any, public_id: str) -> UploadedFile | None:
    """The file if the user may read it, else None (→ 404)."""
    if not FILE_ID.match(public_id):
        return None
    return files_for_user(user).filter(public_id=public_id).first()


def files_for_inputs(
    *, user: Any, inputs: dict[str, Any]
) -> tuple[list[UploadedFile], list[dict[str, str]]]:
    """The uploaded files an execution's inputs name, and an error per one the user may
    not use (unknown, or someone else's that no execution they may read used)."""
    wanted: dict[str, str] = {}
    for name, value in inputs.items():
        for file_id in file_ids_in(value):
            wanted.setdefault(file_id, name)
    if not wanted:
        return [], []
    found = {f.public_id: f for f in files_for_user(user).filter(public_id__in=list(wanted))}
    errors = [
        {
            "input": name,
            "message": f"there is no uploaded file '{file_id}' that you may use "
            "(upload it with POST /api/v1/files)",
        }
        for file_id, name in wanted.items()
        if file_id not in found
    ]
    return list(found.values()), errors


def executions_link_files(*, execution: Execution, files: Iterable[UploadedFile]) -> None:
    execution.files.add(*files)


def uploaded_file_bytes(*, public_id: str, execution_id: str | None, max_bytes: int) -> bytes:
    """The content of an uploaded file linked to the execution ``execution_id``.

    Raises ``LookupError`` when there is no such file for that execution,
    ``ValueError`` when it is larger than ``max_bytes`` and ``StorageUnavailable``
    when the storage cannot give its content (a worker whose storage is not the
    web's: the message says so, without a server path).
    """
    if execution_id is None:
        raise LookupError("uploaded files can only be read by the executions they were given to")
    record = UploadedFile.objects.filter(
        public_id=public_id, executions__public_id=execution_id
    ).first()
    if record is None:
        raise LookupError(f"there is no uploaded file '{public_id}' among this execution's inputs")
    if record.size > max_bytes:
        raise ValueError(f"the file is larger than {max_bytes} bytes")
    try:
        with record.file.open("rb") as handle:
            return handle.read()
    except STORAGE_ERRORS as exc:
        raise _storage_failure("read", public_id, exc) from None
