"""Document functions: ``pdf_to_text``.

Needs the ``pypdf`` package (imported when the function runs; without it the step
fails with ``execution_error`` naming the package).
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import re
from pathlib import Path
from typing import Any

from django.conf import settings

from executions.steps.base import CURRENT_EXECUTION, StepError
from executions.steps.functions import register
from executions.steps.library.web import FETCH_PARAMETERS, HARD_MAX_BYTES, fetch

DEFAULT_PDF_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_PAGES = 500
_FILE_ID = re.compile(r"^file_[a-z2-7]{16}$")
_DATA_URL = re.compile(r"data:(?P<type>[\w.+/-]*)(?P<params>(?:;[\w.+-]+=[^;,]*)*);base64,", re.I)


def uploads_dir() -> Path:
    """Where local files may be read from: ``PRSM_UPLOADS_DIR`` or ``MEDIA_ROOT/uploads``."""
    configured = getattr(settings, "PRSM_UPLOADS_DIR", None)
    return Path(configured or Path(settings.MEDIA_ROOT) / "uploads").resolve()


def _local_file(source: str, max_bytes: int) -> bytes:
    """A file under the uploads directory; anything else (``..``, symlinks out,
    absolute paths elsewhere) is refused."""
    root = uploads_dir()
    raw = source[len("file://") :] if source.startswith("file://") else source
    candidate = Path(raw) if os.path.isabs(raw) else root / raw
    try:
        path = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        raise StepError(
            "invalid_input", f"pdf_to_text: there is no uploaded file {source!r}."
        ) from None
    stored = (Path(settings.MEDIA_ROOT) / "files").resolve()
    if path.is_relative_to(stored):  # uploaded through the API: by id only (access rules)
        raise StepError(
            "invalid_input",
            f"pdf_to_text: {source!r} is an uploaded file; name it by its id (file_…).",
        )
    if not path.is_relative_to(root) or not path.is_file():
        raise StepError(
            "invalid_input",
            f"pdf_to_text: {source!r} is not an uploaded file; only files under the uploads "
            "directory can be read.",
        )
    if path.stat().st_size > max_bytes:
        raise StepError("invalid_input", f"pdf_to_text: the file is larger than {max_bytes} bytes.")
    return path.read_bytes()


def _uploaded(file_id: str, max_bytes: int) -> bytes:
    """An uploaded file (``file_…``) given to the execution this step belongs to."""
    from executions.services.uploads import StorageUnavailable, uploaded_file_bytes

    try:
        return uploaded_file_bytes(
            public_id=file_id, execution_id=CURRENT_EXECUTION.get(), max_bytes=max_bytes
        )
    except LookupError as exc:
        raise StepError("invalid_input", f"pdf_to_text: {exc}.") from None
    except ValueError as exc:
        raise StepError("invalid_input", f"pdf_to_text: {exc}.") from None
    except StorageUnavailable as exc:
        raise StepError("temporary_failure", f"pdf_to_text: {exc}.") from None


def _data_url(source: str, max_bytes: int) -> bytes:
    match = _DATA_URL.match(source)
    if match is None:
        raise StepError(
            "invalid_input", "pdf_to_text: a data: URL must be base64 (data:…;base64,…)."
        )
    encoded = source[match.end() :]
    if len(encoded) * 3 // 4 > max_bytes:
        raise StepError("invalid_input", f"pdf_to_text: the PDF is larger than {max_bytes} bytes.")
    try:
        return base64.b64decode(encoded, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise StepError("invalid_input", f"pdf_to_text: bad base64 data: {exc}") from None


def _source_bytes(source: Any, max_bytes: int, timeout: float) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    if isinstance(source, dict):
        source = (
            source.get("file")
            or source.get("file_id")
            or source.get("url")
            or source.get("pdf_url")
            or source.get("path")
        )
    if not isinstance(source, str) or not source.strip():
        raise StepError(
            "invalid_input",
            "pdf_to_text takes an uploaded file's id (file_…), a URL, a data: URL or a path "
            "under the uploads directory.",
        )
    source = source.strip()
    if _FILE_ID.match(source):
        return _uploaded(source, max_bytes)
    lowered = source[:10].lower()
    if lowered.startswith(("http://", "https://")):
        return fetch(source, name="pdf_to_text", max_bytes=max_bytes, timeout=timeout).body
    if lowered.startswith("data:"):
        return _data_url(source, max_bytes)
    if re.match(r"^[a-z][a-z0-9+.-]*://", lowered) and not lowered.startswith("file://"):
        raise StepError("invalid_input", f"pdf_to_text: unsupported URL scheme in {source[:40]!r}.")
    return _local_file(source, max_bytes)


def extract_pdf_text(data: bytes, *, max_pages: int = DEFAULT_MAX_PAGES) -> list[str]:
    """The text of each page (at most ``max_pages``)."""
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError:
        raise StepError("execution_error", "pdf_to_text needs the pypdf package") from None
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise StepError("invalid_input", "pdf_to_text: the data is not a PDF.")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise StepError("invalid_input", "pdf_to_text: the PDF is encrypted.")
        return [(page.extract_text() or "").strip() for page in reader.pages[:max_pages]]
    except StepError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise StepError("invalid_input", f"pdf_to_text: cannot read the PDF: {exc}") from None


@register(
    "pdf_to_text",
    schema={
        "type": "object",
        "properties": {
            "url": {"type": "string", "description": "The source (else the input is)."},
            "max_pages": {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 500},
            "pages": {
                "type": "boolean",
                "default": False,
                "description": "Return a list with each page's text instead of one string.",
            },
            "max_bytes": {**FETCH_PARAMETERS["max_bytes"], "default": DEFAULT_PDF_MAX_BYTES},
            "timeout": FETCH_PARAMETERS["timeout"],
        },
        "additionalProperties": False,
    },
    input={
        "type": ["string", "object"],
        "description": "An uploaded file's id (file_…, given to the execution as an input), "
        "an http(s) URL, a base64 data: URL, a path under the uploads directory, or an "
        "object with file/url/pdf_url/path.",
    },
    output={"description": "The text, pages separated by blank lines (a list with pages=true)."},
)
def pdf_to_text(
    value: Any,
    *,
    url: str | None = None,
    max_pages: int = DEFAULT_MAX_PAGES,
    pages: bool = False,
    max_bytes: int | None = None,
    timeout: float | None = None,
) -> Any:
    """The text of a PDF from an uploaded file, a URL or a data: URL.

    An uploaded file (``POST /api/v1/files``) is named by its id and read only by an
    execution that was given it among its inputs. URLs are fetched through the
    outbound guard; local paths are read only from the uploads directory
    (``PRSM_UPLOADS_DIR``, default ``MEDIA_ROOT/uploads``), never from where the
    API stores uploaded files.
    """
    limit = min(int(max_bytes or DEFAULT_PDF_MAX_BYTES), HARD_MAX_BYTES)
    data = _source_bytes(url or value, limit, float(timeout or 30.0))
    texts = extract_pdf_text(data, max_pages=max_pages)
    return texts if pages else "\n\n".join(t for t in texts if t)
