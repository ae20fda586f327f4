"""The function library: each function's behaviour, parameter schemas and validation,
and the web functions against a real HTTP server on loopback."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from executions.steps import functions
from executions.steps.base import StepError
from executions.steps.functions import call, function_catalog, register, validate_parameters
from executions.steps.library import documents, text, web

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PDF = (FIXTURES / "hello.pdf").read_bytes()
ATOM = (FIXTURES / "arxiv_feed.xml").read_bytes()


def _error(name: str, value: Any, **parameters: Any) -> StepError:
    with pytest.raises(StepError) as info:
        call(name, value, parameters)
    return info.value


# ----------------------------------------------------------------------------- registry


def test_catalog_lists_every_function_with_schema_and_shapes() -> None:
    catalog = {entry["name"]: entry for entry in function_catalog()}
    expected = {
        "clean_text",
        "combine_results",
        "merge_json",
        "chunk_text",
        "extract_text",
        "noop",
        "sleep",
        "fail",
        "regex_extract",
        "select",
        "relevance_filter",
        "http_get",
        "pdf_to_text",
        "academic_search",
    }
    assert expected <= set(catalog)
    for entry in catalog.values():
        assert set(entry) == {"name", "description", "parameters", "input", "output"}
        assert entry["description"], entry["name"]
        assert entry["parameters"]["type"] == "object"
    json.dumps(function_catalog())  # serialisable for the API
    assert catalog["regex_extract"]["parameters"]["required"] == ["pattern"]


def test_validate_parameters() -> None:
    assert validate_parameters("chunk_text", {"size": 10, "overlap": 2}) == []
    assert validate_parameters("chunk_text", None) == []
    errors = validate_parameters("chunk_text", {"size": 0, "sise": 3})
    assert len(errors) == 2
    assert any("sise" in e for e in errors) and any("size" in e and "minimum" in e for e in errors)
    assert validate_parameters("relevance_filter", {}) == []
    assert validate_parameters("relevance_filter", {"method": "magic"})
    assert (
        "min_relevance"
        in validate_parameters("relevance_filter", {"query": "x", "min_relevance": 2})[0]
    )
    assert validate_parameters("nope", {}) == ["There is no function 'nope'."]
    assert validate_parameters("noop", {"anything": 1}) == []
    assert validate_parameters("clean_text", {"lowercase": "yes"})


def test_references_are_judged_at_run_time_only() -> None:
    assert validate_parameters("chunk_text", {"size": "${workflow.input.size}"}) == []
    assert validate_parameters("regex_extract", {"pattern": "${x.result}", "group": "${y}"}) == []
    assert validate_parameters("chunk_text", {"size": "ten"})


def test_call_checks_parameters_first() -> None:
    error = _error("chunk_text", "abc", size="ten")
    assert error.error_type == "invalid_input" and "size" in error.message
    assert _error("nope", "x").message == "There is no function 'nope'."


def test_register_a_new_function() -> None:
    @register(
        "test_word_count",
        schema={"type": "object", "properties": {"min_length": {"type": "integer"}}},
        input={"type": "string"},
        output={"type": "integer"},
    )
    def word_count(value: Any, *, min_length: int = 1) -> int:
        """Counts words.

        More text here."""
        return len([w for w in str(value).split() if len(w) >= min_length])

    try:
        assert call("test_word_count", "a bb ccc", {"min_length": 2}) == 2
        entry = next(e for e in function_catalog() if e["name"] == "test_word_count")
        assert entry["description"] == "Counts words."
        assert entry["output"] == {"type": "integer"}
        with pytest.raises(Exception, match="is not valid"):
            register("test_bad", schema={"type": "nonsense"})(word_count)
    finally:
        for table in (functions.FUNCTIONS, functions.SPECS, functions._VALIDATORS):
            table.pop("test_word_count", None)
            table.pop("test_bad", None)


def test_existing_functions_still_work() -> None:
    assert call("clean_text", "  A  b ", {"lowercase": True}) == "a b"
    assert call("chunk_text", "abcdef", {"size": 4, "overlap": 1}) == ["abcd", "def"]
    assert call("merge_json", [{"a": 1}, {"b": 2}], {}) == {"a": 1, "b": 2}
    assert call("combine_results", {"x": 1}, {}) == {"x": 1}
    assert call("extract_text", {"abstract": "t"}, {}) == "t"
    assert call("noop", 5, {"whatever": True}) == 5
    assert call("sleep", 1, {"seconds": 0}) == 1
    assert _error("fail", 1, error_type="rate_limit").error_type == "rate_limit"
    assert _error("fail", 1, error_type="bogus").error_type == "invalid_input"


# ----------------------------------------------------------------------------- regex_extract


def test_regex_extract() -> None:
    sample = "Contact ann@example.org or BOB@test.io today"
    pattern = r"([a-z]+)@([a-z.]+)"
    assert call("regex_extract", sample, {"pattern": pattern}) == ["ann@example.org"]
    assert call("regex_extract", sample, {"pattern": pattern, "flags": "i", "group": 1}) == [
        "ann",
        "BOB",
    ]
    assert call("regex_extract", sample, {"pattern": pattern, "group": "all", "flags": "i"}) == [
        ["ann", "example.org"],
        ["BOB", "test.io"],
    ]
    named = r"(?P<user>\w+)@"
    assert call("regex_extract", sample, {"pattern": named, "group": "user", "all": False}) == (
        "ann"
    )
    assert call("regex_extract", "nothing", {"pattern": "x+", "all": False}) is None
    assert call("regex_extract", ["a1", "b22"], {"pattern": r"\d+"}) == [["1"], ["22"]]


def test_regex_extract_errors() -> None:
    assert "bad pattern" in _error("regex_extract", "x", pattern="(unclosed").message
    assert _error("regex_extract", "x", pattern="a", group=2).error_type == "invalid_input"
    assert _error("regex_extract", "x", pattern="a", group="nope").error_type == "invalid_input"
    assert validate_parameters("regex_extract", {"pattern": "a" * 1001})
    assert validate_parameters("regex_extract", {"pattern": "a", "flags": "q"})
    assert validate_parameters("regex_extract", {})
    with pytest.raises(StepError, match="longer than"):
        text.regex_extract("x", pattern="a" * 1001)


# ----------------------------------------------------------------------------- select


DATA = {"a": {"b": [10, {"c": "deep"}], "key with space": 1}, "items": [{"t": "x"}, {"t": "y"}]}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a.b[0]", 10),
        ("a.b[1].c", "deep"),
        ("$.a.b.1.c", "deep"),
        ('a["key with space"]', 1),
        ("items[-1].t", "y"),
        ("", DATA),
    ],
)
def test_select(path: str, expected: Any) -> None:
    assert call("select", DATA, {"path": path}) == expected


def test_select_missing_and_malformed() -> None:
    assert call("select", DATA, {"path": "a.zzz", "default": None}) is None
    error = _error("select", DATA, path="a.zzz")
    assert error.error_type == "invalid_input" and "zzz" in error.message
    assert _error("select", DATA, path="items[9]").error_type == "invalid_input"
    assert "unexpected" in _error("select", DATA, path="a..b").message
    assert "unexpected" in _error("select", DATA, path="a[b").message
    assert text.parse_path("a.b[2]['x y']") == ("a", "b", 2, "x y")


# ----------------------------------------------------------------------------- relevance_filter

DOCS: list[Any] = [
    {"title": "Graph neural networks for molecules", "abstract": "Molecular property prediction."},
    "A recipe for chocolate cake with butter and sugar.",
    {"title": "Neural networks", "text": "Deep neural network training on graphs."},
]


def test_relevance_filter_keeps_relevant_documents_best_first() -> None:
    kept = call("relevance_filter", DOCS, {"query": "graph neural network", "min_relevance": 0.2})
    assert [(d["title"], d["relevance"]) for d in kept] == [
        ("Neural networks", 0.7933),
        ("Graph neural networks for molecules", 0.55),
    ]
    assert all(0.2 <= d["relevance"] <= 1 for d in kept)
    assert kept[0]["relevance"] >= kept[1]["relevance"]
    assert "chocolate" not in json.dumps(kept)
    assert DOCS[0] == {  # the input is not modified
        "title": "Graph neural networks for molecules",
        "abstract": "Molecular property prediction.",
    }


def test_relevance_filter_scores() -> None:
    everything = call("relevance_filter", DOCS, {"query": "chocolate cake", "min_relevance": 0})
    assert len(everything) == 3
    assert everything[0] == {
        "text": "A recipe for chocolate cake with butter and sugar.",
        "relevance": everything[0]["relevance"],
    }
    assert everything[0]["relevance"] > 0.3
    assert everything[1]["relevance"] == everything[2]["relevance"] == 0.0
    identical = text.relevance_scores("neural networks", ["Neural network."])
    assert identical == [1.0]
    unsorted = call(
        "relevance_filter", DOCS, {"query": "neural", "min_relevance": 0, "sort": False, "top_k": 2}
    )
    assert [d.get("title") for d in unsorted] == [DOCS[0]["title"], None]


def test_relevance_filter_coverage_and_no_query() -> None:
    covered = call(
        "relevance_filter",
        DOCS,
        {"query": "graph neural molecules", "method": "coverage", "min_relevance": 0.5},
    )
    assert [(d["title"], d["relevance"]) for d in covered] == [
        ("Graph neural networks for molecules", 1.0),
        ("Neural networks", covered[1]["relevance"]),
    ]
    assert 0.5 <= covered[1]["relevance"] < 1
    on_topic = [
        "neural network training",
        "training a neural network quickly",
        "deep neural network training",
        "chocolate cake recipe",
    ]
    kept = call("relevance_filter", on_topic, {"min_relevance": 0.3})
    assert "chocolate cake recipe" not in [d["text"] for d in kept]
    assert len(kept) == 3
    assert text.relevance_scores(None, ["apple pie"]) == [1.0]
    assert text.relevance_scores(None, ["apple pie", "apple pie"]) == [1.0, 1.0]


def test_relevance_filter_bad_input() -> None:
    assert _error("relevance_filter", 5, query="x").error_type == "invalid_input"
    assert call("relevance_filter", [], {"query": "x"}) == []


# ----------------------------------------------------------------------------- a web server


@dataclass
class Web:
    port: int = 0
    requests: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def web_server(settings: Any) -> Iterator[Web]:
    settings.PRSM_OUTBOUND_ALLOWLIST = ["127.0.0.1"]
    state = Web()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout tests)

        def do_GET(self) -> None:
            state.requests.append(self.path)
            path = urlsplit(self.path).path
            if path == "/json":
                return self._send(200, b'{"ok": true, "n": [1]}', "application/json")
            if path == "/text":
                ua = self.headers.get("User-Agent", "")
                return self._send(200, f"héllo {ua}".encode(), "text/plain; charset=utf-8")
            if path == "/big":
                return self._send(200, b"x" * 5000, "text/plain")
            if path == "/slow":
                time.sleep(1.5)
                return self._send(200, b"late", "text/plain")
            if path in ("/404", "/429", "/503"):
                return self._send(int(path[1:]), b"no", "text/plain")
            if path == "/to-private":
                self.send_response(302)
                self.send_header("Location", "http://10.0.0.1/secret")
                self.end_headers()
                return None
            if path == "/hello.pdf":
                return self._send(200, PDF, "application/pdf")
            if path == "/api/query":
                query = parse_qs(urlsplit(self.path).query)
                if query["search_query"] == ["all:bad"]:
                    return self._send(200, _arxiv_error(), "application/atom+xml")
                return self._send(200, ATOM, "application/atom+xml")
            if path == "/doctype":
                evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><feed>&a;</feed>'
                return self._send(200, evil, "application/atom+xml")
            return self._send(404, b"?", "text/plain")

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


def _arxiv_error() -> bytes:
    return b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><entry>
<id>http://arxiv.org/api/errors#incorrect_id_format_for_1234</id><title>Error</title>
<summary>incorrect id format for 1234</summary></entry></feed>"""


# ----------------------------------------------------------------------------- http_get


def test_http_get_json_and_text(web_server: Web) -> None:
    assert call("http_get", web_server.url("/json"), {}) == {"ok": True, "n": [1]}
    assert call("http_get", None, {"url": web_server.url("/json"), "response_as": "text"}) == (
        '{"ok": true, "n": [1]}'
    )
    body = call("http_get", web_server.url("/text"), {"headers": {"User-Agent": "probe"}})
    assert body == "héllo probe"
    call("http_get", web_server.url("/json"), {"query": {"q": "a b", "n": 2}})
    assert web_server.requests[-1] == "/json?q=a+b&n=2"


def test_http_get_size_limit(web_server: Web) -> None:
    error = _error("http_get", web_server.url("/big"), max_bytes=1000)
    assert error.error_type == "invalid_input" and "larger than 1000" in error.message
    assert len(call("http_get", web_server.url("/big"), {})) == 5000


@pytest.mark.parametrize(
    ("path", "error_type"),
    [("/404", "invalid_input"), ("/429", "rate_limit"), ("/503", "temporary_failure")],
)
def test_http_get_status_errors(web_server: Web, path: str, error_type: str) -> None:
    assert _error("http_get", web_server.url(path)).error_type == error_type


def test_http_get_timeout(web_server: Web) -> None:
    started = time.monotonic()
    assert _error("http_get", web_server.url("/slow"), timeout=0.3).error_type == "timeout"
    assert time.monotonic() - started < 1.4


def test_http_get_guard(web_server: Web, settings: Any) -> None:
    error = _error("http_get", web_server.url("/to-private"))
    assert error.error_type == "invalid_input" and "10.0.0.1" in error.message
    settings.PRSM_OUTBOUND_ALLOWLIST = []
    error = _error("http_get", web_server.url("/json"))
    assert error.error_type == "invalid_input" and "PRSM_OUTBOUND_ALLOWLIST" in error.message
    assert _error("http_get", "file:///etc/passwd").error_type == "invalid_input"
    assert _error("http_get", None).error_type == "invalid_input"


# ----------------------------------------------------------------------------- academic_search


def test_academic_search_parses_the_feed(web_server: Web, settings: Any) -> None:
    settings.PRSM_ARXIV_URL = web_server.url("/api/query")
    papers = call("academic_search", "graph neural networks", {"max_results": 5})
    assert len(papers) == 2
    first = papers[0]
    assert first["id"] == "2101.00001v2"
    assert first["title"] == "Graph Neural Networks for Molecules"
    assert first["abstract"] == (
        "We study graph neural networks applied to molecular property prediction."
    )
    assert first["authors"] == ["Ada Lovelace", "Alan Turing"]
    assert first["published"] == "2021-01-01T18:00:00Z"
    assert first["url"] == "http://arxiv.org/abs/2101.00001v2"
    assert first["pdf_url"] == "http://arxiv.org/pdf/2101.00001v2"
    assert first["categories"] == ["cs.LG", "q-bio.BM"]
    query = parse_qs(urlsplit(web_server.requests[-1]).query)
    assert query["search_query"] == ["all:graph neural networks"]
    assert query["max_results"] == ["5"]
    call("academic_search", None, {"query": "ti:transformer AND cat:cs.CL", "max_results": 1})
    query = parse_qs(urlsplit(web_server.requests[-1]).query)
    assert query["search_query"] == ["ti:transformer AND cat:cs.CL"]
    assert len(call("academic_search", "x", {"max_results": 1})) == 1


def test_academic_search_errors(web_server: Web, settings: Any) -> None:
    settings.PRSM_ARXIV_URL = web_server.url("/api/query")
    error = _error("academic_search", "bad")
    assert error.error_type == "invalid_input" and "incorrect id format" in error.message
    assert _error("academic_search", "  ").error_type == "invalid_input"
    assert validate_parameters("academic_search", {"max_results": 1000})
    settings.PRSM_ARXIV_URL = web_server.url("/doctype")
    error = _error("academic_search", "x")
    assert error.error_type == "execution_error" and "DOCTYPE" in error.message


def test_parse_xml_refuses_entity_declarations() -> None:
    with pytest.raises(StepError, match="DOCTYPE"):
        web.parse_xml(b'<!DOCTYPE lol [<!ENTITY lol "lol">]><a>&lol;</a>')
    with pytest.raises(StepError, match="not valid XML"):
        web.parse_xml(b"<a>")


# ----------------------------------------------------------------------------- pdf_to_text


def test_pdf_to_text_from_url(web_server: Web) -> None:
    assert call("pdf_to_text", web_server.url("/hello.pdf"), {}) == "Hello PRSM workflows"
    assert call("pdf_to_text", {"pdf_url": web_server.url("/hello.pdf")}, {"pages": True}) == [
        "Hello PRSM workflows"
    ]
    assert _error("pdf_to_text", web_server.url("/hello.pdf"), max_bytes=100).error_type == (
        "invalid_input"
    )


def test_pdf_to_text_from_data_url() -> None:
    data_url = "data:application/pdf;base64," + base64.b64encode(PDF).decode()
    assert call("pdf_to_text", data_url, {}) == "Hello PRSM workflows"
    assert _error("pdf_to_text", "data:application/pdf,notbase64").error_type == "invalid_input"
    not_pdf = "data:application/pdf;base64," + base64.b64encode(b"hello").decode()
    assert "not a PDF" in _error("pdf_to_text", not_pdf).message


def test_pdf_to_text_reads_only_uploaded_files(tmp_path: Path, settings: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    uploads = tmp_path / "media" / "uploads"
    (uploads / "team").mkdir(parents=True)
    (uploads / "team" / "paper.pdf").write_bytes(PDF)
    outside = tmp_path / "secret.pdf"
    outside.write_bytes(PDF)
    (uploads / "link.pdf").symlink_to(outside)

    assert call("pdf_to_text", "team/paper.pdf", {}) == "Hello PRSM workflows"
    assert call("pdf_to_text", str(uploads / "team" / "paper.pdf"), {}) == "Hello PRSM workflows"
    for bad in ("../secret.pdf", str(outside), "link.pdf", "/etc/passwd", "team", "missing.pdf"):
        assert _error("pdf_to_text", bad).error_type == "invalid_input", bad
    assert _error("pdf_to_text", "ftp://x/y.pdf").error_type == "invalid_input"
    assert _error("pdf_to_text", 42).error_type == "invalid_input"

    settings.PRSM_UPLOADS_DIR = str(tmp_path)
    assert call("pdf_to_text", "secret.pdf", {}) == "Hello PRSM workflows"


def test_pdf_to_text_without_pypdf(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "pypdf", None)  # makes ``import pypdf`` fail
    with pytest.raises(StepError) as info:
        documents.extract_pdf_text(PDF)
    assert info.value.error_type == "execution_error"
    assert info.value.message == "pdf_to_text needs the pypdf package"
