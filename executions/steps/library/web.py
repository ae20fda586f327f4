"""Functions that fetch from the web: ``http_get`` and ``academic_search`` (arXiv).

Every request goes through the outbound guard
(:func:`executions.outbound.safe_client`): private and loopback addresses are
refused unless ``PRSM_OUTBOUND_ALLOWLIST`` allows them. Bodies are read as a
stream and cut off at a size limit.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from executions.outbound import OutboundBlocked, OutboundUnresolvable, safe_client
from executions.steps.base import StepError
from executions.steps.functions import register

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
HARD_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_TIMEOUT = 30.0
DEFAULT_ARXIV_URL = "http://export.arxiv.org/api/query"
USER_AGENT = "PRSM-Workflows/1.0 (+https://github.com/prsm)"


@dataclass
class Fetched:
    url: str
    status: int
    content_type: str
    body: bytes

    @property
    def text(self) -> str:
        charset = "utf-8"
        match = re.search(r"charset=([\w.-]+)", self.content_type, re.IGNORECASE)
        if match:
            charset = match.group(1)
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


def fetch(
    url: str,
    *,
    name: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
) -> Fetched:
    """GET ``url`` through the guard, at most ``max_bytes`` of body, errors as StepErrors."""
    if not isinstance(url, str) or not url.strip():
        raise StepError("invalid_input", f"{name} needs a URL.")
    sent = {"User-Agent": USER_AGENT, **(headers or {})}
    try:
        with (
            safe_client(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0))) as client,
            client.stream("GET", url.strip(), headers=sent, params=params) as response,
        ):
            _raise_for_status(name, url, response)
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise _too_big(name, max_bytes)
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise _too_big(name, max_bytes)
                chunks.append(chunk)
            return Fetched(
                str(response.url),
                response.status_code,
                response.headers.get("Content-Type", ""),
                b"".join(chunks),
            )
    except httpx.TimeoutException:
        raise StepError("timeout", f"{name}: {url} did not answer within {timeout:g} s.") from None
    except OutboundUnresolvable as exc:
        raise StepError("temporary_failure", f"{name}: {exc}") from None
    except OutboundBlocked as exc:
        raise StepError("invalid_input", f"{name}: {url} may not be requested: {exc}") from None
    except httpx.InvalidURL as exc:
        raise StepError("invalid_input", f"{name}: not a valid URL: {exc}") from None
    except httpx.TransportError as exc:
        raise StepError(
            "temporary_failure", f"{name}: could not reach {url} ({type(exc).__name__}: {exc})"
        ) from None
    except httpx.TooManyRedirects:
        raise StepError("invalid_input", f"{name}: {url} redirects too often.") from None


def _too_big(name: str, max_bytes: int) -> StepError:
    return StepError("invalid_input", f"{name}: the response is larger than {max_bytes} bytes.")


def _raise_for_status(name: str, url: str, response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    said = f"{name}: {url} answered {status}"
    if status == 429:
        raise StepError("rate_limit", said)
    if status == 408:
        raise StepError("timeout", said)
    if status >= 500:
        raise StepError("temporary_failure", said)
    raise StepError("invalid_input", said)


def _limits(max_bytes: int | None, timeout: float | None) -> tuple[int, float]:
    return (
        min(int(max_bytes or DEFAULT_MAX_BYTES), HARD_MAX_BYTES),
        float(timeout or DEFAULT_TIMEOUT),
    )


FETCH_PARAMETERS: dict[str, Any] = {
    "max_bytes": {
        "type": "integer",
        "minimum": 1,
        "maximum": HARD_MAX_BYTES,
        "default": DEFAULT_MAX_BYTES,
        "description": "The largest response accepted, in bytes.",
    },
    "timeout": {
        "type": "number",
        "exclusiveMinimum": 0,
        "maximum": 300,
        "default": DEFAULT_TIMEOUT,
        "description": "Seconds to wait for the server.",
    },
}


# ----------------------------------------------------------------------------- http_get


@register(
    "http_get",
    schema={
        "type": "object",
        "properties": {
            "url": {"type": "string", "description": "The URL (else the input is the URL)."},
            "headers": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "Request headers; the one place a secret may go "
                "(e.g. Authorization: Bearer ${secrets.API_KEY}).",
                "x-secret": True,
            },
            "query": {
                "type": "object",
                "additionalProperties": {"type": ["string", "number", "boolean"]},
                "description": "Query-string parameters added to the URL.",
            },
            "response_as": {"enum": ["auto", "text", "json"], "default": "auto"},
            **FETCH_PARAMETERS,
        },
        "additionalProperties": False,
    },
    input={"type": "string", "description": "The URL, unless the url parameter is set."},
    output={"description": "Parsed JSON for a JSON response, else the text."},
)
def http_get(
    value: Any,
    *,
    url: str | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, Any] | None = None,
    response_as: str = "auto",
    max_bytes: int | None = None,
    timeout: float | None = None,
) -> Any:
    """GET a URL: parsed JSON when the server says JSON (or ``response_as: json``), else text.

    Only http and https, only public addresses (unless allow-listed), redirects
    followed (each checked), at most ``max_bytes`` (5 MB by default).
    """
    limit, seconds = _limits(max_bytes, timeout)
    target = url or value
    fetched = fetch(
        target, name="http_get", max_bytes=limit, timeout=seconds, headers=headers, params=query
    )
    is_json = "json" in fetched.content_type.split(";")[0].lower()
    if response_as == "json" or (response_as == "auto" and is_json):
        try:
            return json.loads(fetched.text)
        except ValueError as exc:
            if response_as == "json":
                raise StepError(
                    "invalid_input", f"http_get: the response is not JSON: {exc}"
                ) from None
    return fetched.text


# ----------------------------------------------------------------------------- academic_search

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_UNSAFE_XML = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def parse_xml(data: bytes) -> ET.Element:
    """Parse untrusted XML: a document type declaration (the door to entity
    expansion and external entities) is refused; defusedxml is used when present."""
    if _UNSAFE_XML.search(data):
        raise StepError("execution_error", "The XML response declares a DOCTYPE; refused.")
    try:
        from defusedxml.ElementTree import fromstring  # type: ignore[import-untyped]
    except ImportError:
        fromstring = ET.fromstring
    try:
        return fromstring(data)
    except ET.ParseError as exc:
        raise StepError("execution_error", f"The response is not valid XML: {exc}") from None


def _clean(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def parse_arxiv_feed(data: bytes) -> list[dict[str, Any]]:
    """Entries of an arXiv API Atom feed: id, title, abstract, authors, published, url."""
    root = parse_xml(data)
    papers = []
    for entry in root.iter(f"{_ATOM}entry"):
        entry_id = _clean(entry.findtext(f"{_ATOM}id"))
        title = _clean(entry.findtext(f"{_ATOM}title"))
        summary = _clean(entry.findtext(f"{_ATOM}summary"))
        if "/api/errors" in entry_id or (title == "Error" and not entry.findall(f"{_ATOM}author")):
            raise StepError("invalid_input", f"academic_search: arXiv says: {summary or title}")
        url = entry_id
        pdf_url = ""
        for link in entry.findall(f"{_ATOM}link"):
            if link.get("rel") == "alternate" and link.get("href"):
                url = link.get("href", url)
            if link.get("title") == "pdf" and link.get("href"):
                pdf_url = link.get("href", "")
        arxiv_id = entry_id.rsplit("/abs/", 1)[-1] if "/abs/" in entry_id else entry_id
        papers.append(
            {
                "id": arxiv_id,
                "title": title,
                "abstract": summary,
                "authors": [
                    _clean(author.findtext(f"{_ATOM}name"))
                    for author in entry.findall(f"{_ATOM}author")
                ],
                "published": _clean(entry.findtext(f"{_ATOM}published")),
                "url": url,
                "pdf_url": pdf_url,
                "categories": [
                    c.get("term", "") for c in entry.findall(f"{_ATOM}category") if c.get("term")
                ],
            }
        )
    return papers


@register(
    "academic_search",
    schema={
        "type": "object",
        "properties": {
            "query": {
                "type": "string",
                "minLength": 1,
                "maxLength": 1000,
                "description": "Search words (else the input is the query). arXiv field syntax "
                "(ti:, au:, abs:, cat:, AND/OR) is passed as it is.",
            },
            "max_results": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
            "sort_by": {
                "enum": ["relevance", "lastUpdatedDate", "submittedDate"],
                "default": "relevance",
            },
            "timeout": FETCH_PARAMETERS["timeout"],
            "offline_fallback": {
                "type": "boolean",
                "default": False,
                "description": "When arXiv cannot be reached (no network, DNS failure, "
                "timeout, 5xx), search a small bundled sample of well-known papers instead; "
                "those results say source: offline_sample.",
            },
        },
        "additionalProperties": False,
    },
    input={"type": "string", "description": "The query, unless the query parameter is set."},
    output={
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                k: {"type": "string"}
                for k in ("id", "title", "abstract", "published", "url", "pdf_url")
            }
            | {
                "authors": {"type": "array", "items": {"type": "string"}},
                "categories": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
)
def academic_search(
    value: Any,
    *,
    query: str | None = None,
    max_results: int = 10,
    sort_by: str = "relevance",
    timeout: float | None = None,
    offline_fallback: bool = False,
) -> list[dict[str, Any]]:
    """Papers from arXiv matching a query: id, title, abstract, authors, published, url.

    The API address is ``settings.PRSM_ARXIV_URL`` (default the public arXiv API).
    Plain words are searched in all fields (``all:…``); a query using arXiv's field
    syntax (``ti:transformer AND cat:cs.CL``) is sent as it is.

    With ``offline_fallback``, an unreachable arXiv (``temporary_failure`` or
    ``timeout``) is answered from :mod:`.arxiv_sample` instead: the sample's papers
    that share words with the query, best first, each with ``source: offline_sample``.
    """
    text = query if query is not None else value
    if isinstance(text, dict):
        text = text.get("query") or text.get("topic")
    if not isinstance(text, str) or not text.strip():
        raise StepError("invalid_input", "academic_search needs a query.")
    text = _clean(text)
    search = text if re.search(r"\b(all|ti|au|abs|co|jr|cat|rn|id):", text) else f"all:{text}"
    base = getattr(settings, "PRSM_ARXIV_URL", None) or DEFAULT_ARXIV_URL
    try:
        fetched = fetch(
            base,
            name="academic_search",
            max_bytes=DEFAULT_MAX_BYTES,
            timeout=float(timeout or DEFAULT_TIMEOUT),
            params={
                "search_query": search,
                "start": 0,
                "max_results": int(max_results),
                "sortBy": sort_by,
                "sortOrder": "descending",
            },
        )
    except StepError as exc:
        if offline_fallback and exc.error_type in ("temporary_failure", "timeout"):
            return offline_search(text, int(max_results))
        raise
    return parse_arxiv_feed(fetched.body)[: int(max_results)]


def offline_search(query: str, max_results: int) -> list[dict[str, Any]]:
    """Papers of the bundled sample sharing words with ``query``, best first."""
    from executions.steps.library.arxiv_sample import SAMPLE
    from executions.steps.library.text import relevance_scores

    words = re.sub(r"\b(all|ti|au|abs|co|jr|cat|rn|id):|\b(AND|OR|ANDNOT)\b", " ", query)
    texts = [f"{p['title']} {p['abstract']}" for p in SAMPLE]
    scores = relevance_scores(words, texts, "coverage")
    ranked = sorted(
        (i for i, score in enumerate(scores) if score > 0), key=lambda i: (-scores[i], i)
    )
    return [{**SAMPLE[i], "source": "offline_sample"} for i in ranked[:max_results]]
