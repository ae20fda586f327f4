"""Text and data functions: ``regex_extract``, ``select``, ``relevance_filter``."""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from executions.steps.base import STOPWORDS as _STOPWORDS
from executions.steps.base import StepError
from executions.steps.functions import ANY, register
from workflows.definition.references import ReferenceResolutionError, get_path

MAX_PATTERN_LENGTH = 1000
MAX_MATCHES = 10_000
_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE, "a": re.ASCII}


# ----------------------------------------------------------------------------- regex_extract


def _compile(pattern: str, flags: str) -> re.Pattern[str]:
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise StepError(
            "invalid_input", f"regex_extract: the pattern is longer than {MAX_PATTERN_LENGTH}."
        )
    bits = 0
    for letter in flags:
        if letter not in _FLAGS:
            raise StepError("invalid_input", f"regex_extract: unknown flag {letter!r} (use imsxa).")
        bits |= _FLAGS[letter]
    try:
        return re.compile(pattern, bits)
    except re.error as exc:
        raise StepError("invalid_input", f"regex_extract: bad pattern: {exc}") from None


@register(
    "regex_extract",
    schema={
        "type": "object",
        "properties": {
            "pattern": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_PATTERN_LENGTH,
                "description": "A Python regular expression.",
            },
            "flags": {
                "type": "string",
                "pattern": "^[imsxa]*$",
                "default": "",
                "description": "i (ignore case), m (multiline), s (dot matches newline), "
                "x (verbose), a (ASCII).",
            },
            "group": {
                "type": ["integer", "string"],
                "minimum": 0,
                "default": 0,
                "description": "The group to return: its number or name; 0 is the whole match. "
                "'all' returns every group of a match as a list.",
            },
            "all": {
                "type": "boolean",
                "default": True,
                "description": "Every match (a list) or only the first (or null).",
            },
        },
        "required": ["pattern"],
        "additionalProperties": False,
    },
    input={"type": ["string", "array"], "description": "Text, or a list of texts (mapped)."},
    output={"description": "A list of matches (or the first match / null with all=false)."},
)
def regex_extract(
    value: Any,
    *,
    pattern: str,
    flags: str = "",
    group: int | str = 0,
    all: bool = True,
) -> Any:
    """Matches of a regular expression in the text.

    The pattern is limited to 1000 characters and at most 10 000 matches are
    returned; a pathological pattern is stopped by the step's time limit.
    """
    compiled = _compile(pattern, flags)
    if isinstance(group, str) and group != "all" and group not in compiled.groupindex:
        raise StepError("invalid_input", f"regex_extract: the pattern has no group {group!r}.")
    if isinstance(group, int) and group > compiled.groups:
        raise StepError("invalid_input", f"regex_extract: the pattern has no group {group}.")

    def pick(match: re.Match[str]) -> Any:
        return list(match.groups()) if group == "all" else match.group(group)

    def one(text: Any) -> Any:
        text = text if isinstance(text, str) else "" if text is None else str(text)
        if not all:
            match = compiled.search(text)
            return pick(match) if match else None
        found = []
        for match in compiled.finditer(text):
            found.append(pick(match))
            if len(found) >= MAX_MATCHES:
                break
        return found

    if isinstance(value, list):
        return [one(item) for item in value]
    return one(value)


# ----------------------------------------------------------------------------- select

_SEGMENT = re.compile(
    r"""\.?(?P<word>[A-Za-z0-9_\-]+)
      | \[\s*(?P<index>-?\d+)\s*\]
      | \[\s*"(?P<dq>(?:[^"\\]|\\.)*)"\s*\]
      | \[\s*'(?P<sq>(?:[^'\\]|\\.)*)'\s*\]""",
    re.VERBOSE,
)


def parse_path(path: str) -> tuple[str | int, ...]:
    """``a.b[0]["c d"]`` → ``("a", "b", 0, "c d")``. A leading ``$`` or ``.`` is allowed."""
    text = path.strip()
    if text.startswith("$"):
        text = text[1:]
    segments: list[str | int] = []
    pos = 0
    while pos < len(text):
        m = _SEGMENT.match(text, pos)
        if m is None or (m.group("word") is not None and pos > 0 and text[pos] != "."):
            shown = text[pos : pos + 20]
            raise StepError(
                "invalid_input",
                f'select: unexpected {shown!r} in the path; write a.b[0] or a["key"]',
            )
        if m.group("word") is not None:
            segments.append(m.group("word"))
        elif m.group("index") is not None:
            segments.append(int(m.group("index")))
        else:
            quoted = m.group("dq") if m.group("dq") is not None else m.group("sq")
            segments.append(re.sub(r"\\(.)", r"\1", quoted))
        pos = m.end()
    return tuple(segments)


_MISSING = object()


@register(
    "select",
    schema={
        "type": "object",
        "properties": {
            "path": {
                "type": "string",
                "maxLength": 1000,
                "description": 'Where to read: a.b[0], items[-1].title, a["key with spaces"]; '
                "empty for the input itself.",
            },
            "default": {"description": "Returned when the path does not exist (else an error)."},
        },
        "required": ["path"],
        "additionalProperties": False,
    },
    input=ANY,
    output=ANY,
)
def select(value: Any, *, path: str, default: Any = _MISSING) -> Any:
    """The part of the input at a path (``a.b[0]``), like a ``${step.result…}`` path."""
    segments = parse_path(path)
    try:
        return get_path(value, segments, reference=path)
    except ReferenceResolutionError as exc:
        if default is not _MISSING:
            return default
        raise StepError("invalid_input", f"select: {exc}") from None


# ----------------------------------------------------------------------------- relevance_filter

_WORD = re.compile(r"[a-z0-9]+")


def _terms(text: str) -> list[str]:
    out = []
    for word in _WORD.findall(text.lower()):
        if len(word) < 2 or word in _STOPWORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]  # a light plural fold: networks → network
        out.append(word)
    return out


def _doc_text(doc: Any) -> str:
    if isinstance(doc, str):
        return doc
    if isinstance(doc, dict):
        parts = [doc.get(k) for k in ("title", "abstract", "text", "content", "summary")]
        return " ".join(str(p) for p in parts if p)
    return "" if doc is None else str(doc)


def relevance_scores(query: str | None, texts: list[str], method: str = "cosine") -> list[float]:
    """Each text's relevance to the query, 0..1 (see ``relevance_filter``)."""
    docs = [Counter(_terms(t)) for t in texts]
    n = len(docs)
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(doc.keys())

    def idf(term: str) -> float:
        return math.log((1 + n) / (1 + df[term])) + 1.0

    def vector(tf: Counter[str]) -> dict[str, float]:
        return {t: (1 + math.log(c)) * idf(t) for t, c in tf.items() if c > 0}

    if not (query and query.strip()):
        return _collection_scores([vector(doc) for doc in docs])
    query_tf = Counter(_terms(query))
    q = vector(query_tf)
    q_norm = math.sqrt(sum(w * w for w in q.values()))
    q_total = sum(idf(t) for t in q)
    scores = []
    for doc in docs:
        if method == "coverage":
            found = sum(idf(t) for t in q if doc.get(t))
            scores.append(round(found / q_total, 4) if q_total else 0.0)
            continue
        d = vector(doc)
        d_norm = math.sqrt(sum(w * w for w in d.values()))
        if not q_norm or not d_norm:
            scores.append(0.0)
            continue
        dot = sum(w * d.get(t, 0.0) for t, w in q.items())
        scores.append(round(min(dot / (q_norm * d_norm), 1.0), 4))
    return scores


def _collection_scores(vectors: list[dict[str, float]]) -> list[float]:
    """Without a query: each document's cosine with the sum of the *other* documents'
    unit vectors — how much it shares the collection's topic. Linear in N."""
    units = []
    for v in vectors:
        norm = math.sqrt(sum(w * w for w in v.values()))
        units.append({t: w / norm for t, w in v.items()} if norm else {})
    if len(units) == 1:
        return [1.0 if units[0] else 0.0]
    total: dict[str, float] = {}
    for u in units:
        for t, w in u.items():
            total[t] = total.get(t, 0.0) + w
    total_sq = sum(w * w for w in total.values())
    scores = []
    for u in units:
        if not u:
            scores.append(0.0)
            continue
        # others = total - u, so |others|² = |total|² - 2 total·u + 1 and u·others = total·u - 1
        shared = sum(w * total[t] for t, w in u.items())
        norm_sq = total_sq - 2 * shared + 1
        dot = shared - 1
        scores.append(
            round(max(0.0, min(dot / math.sqrt(norm_sq), 1.0)), 4) if norm_sq > 1e-9 else 0.0
        )
    return scores


@register(
    "relevance_filter",
    schema={
        "type": "object",
        "properties": {
            "query": {
                "type": ["string", "null"],
                "maxLength": 10_000,
                "description": "What the documents should be about. Without one, each document "
                "is scored against the rest of the collection (off-topic ones score low).",
            },
            "min_relevance": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.1},
            "method": {
                "enum": ["cosine", "coverage"],
                "default": "cosine",
                "description": "cosine: TF-IDF cosine similarity; coverage: the IDF-weighted "
                "share of the query's words the document contains.",
            },
            "top_k": {"type": ["integer", "null"], "minimum": 1},
            "sort": {"type": "boolean", "default": True},
        },
        "additionalProperties": False,
    },
    input={
        "type": "array",
        "items": {"type": ["string", "object"]},
        "description": "Documents: strings, or objects with title/abstract/text.",
    },
    output={
        "type": "array",
        "items": {"type": "object"},
        "description": "The documents kept, each an object with a 'relevance' score "
        "(a string document becomes {'text': …}).",
    },
)
def relevance_filter(
    value: Any,
    *,
    query: str | None = None,
    min_relevance: float = 0.1,
    method: str = "cosine",
    top_k: int | None = None,
    sort: bool = True,
) -> list[dict[str, Any]]:
    """Documents relevant to a query, each with a 0..1 ``relevance`` score.

    Scoring: the query and each document (title, abstract, text, content and
    summary joined) are lowercased and split into words; stopwords are dropped and
    a plural ``s`` is folded. A word's idf is the smoothed ln((1 + N) / (1 + df)) + 1
    over the N input documents. ``cosine`` (the default) weighs each word
    (1 + ln tf) × idf and scores the cosine of the query's and the document's
    vectors: 0 is no word in common, 1 the same words in the same proportions;
    long documents score lower than short ones on the same words (typical
    abstracts against a short query: 0.1–0.4). ``coverage`` scores the share of
    the query's words (weighted by idf) that the document contains, whatever its
    length: 1 when it has them all. Without a query, a document's score is its
    cosine with the sum of the other documents' (unit) vectors: documents on the
    collection's common topic score high, off-topic ones near 0. Scores are
    rounded to 4 places; documents scoring at least ``min_relevance`` are kept,
    best first unless ``sort`` is false, at most ``top_k``.
    """
    if isinstance(value, (str, dict)):
        value = [value]
    if not isinstance(value, list):
        raise StepError("invalid_input", "relevance_filter takes a list of documents.")
    scores = relevance_scores(query, [_doc_text(doc) for doc in value], method)
    kept: list[dict[str, Any]] = []
    for doc, score in zip(value, scores, strict=True):
        if score < min_relevance:
            continue
        item = dict(doc) if isinstance(doc, dict) else {"text": _doc_text(doc)}
        item["relevance"] = score
        kept.append(item)
    if sort:
        kept.sort(key=lambda d: -d["relevance"])
    return kept[:top_k] if top_k else kept
