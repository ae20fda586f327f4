"""Every built-in template, instantiated with its defaults, runs to ``completed`` on the
real engine on a machine without internet, with meaningful results.

This machine has no route to the internet and no model server is configured: models
such as gpt-4 fall back to the built-in offline ones, and academic_search answers
from its bundled sample when arXiv is unreachable.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from executions.steps.base import StepError
from executions.steps.functions import call
from tests.conftest import client_for
from tests.executions.helpers import detail, execute, steps_by_id, wait_terminal
from workflows.builtin import builtin_template_documents, builtin_templates_load
from workflows.models import Template

REVIEW = (
    "I love using PRSM for AI research! The new editor is wonderful and the results are "
    "excellent. Alice Smith at the Berlin Institute ran her first workflow in minutes. "
    "It is the best tool our team has used this year."
)
PAPER_SENTENCES = [
    "We study graph neural networks for predicting molecular properties.",
    "Our method combines message passing with attention over chemical bonds.",
    "Experiments on three benchmarks show consistent gains over strong baselines.",
    "The approach trains in hours on a single machine.",
    "We release the code and the trained models for further research.",
]
SLUGS = [
    "literature-review",
    "parallel-analysis",
    "resilient-workflow",
    "scientific-paper-analysis",
    "text-analysis",
    "text-analysis-template",
]


def text_pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing ``lines`` in Helvetica (hand-written PDF syntax)."""
    stream = "BT /F1 11 Tf 72 720 Td 14 TL\n"
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream += f"({escaped}) Tj T*\n"
    stream += "ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        f"<< /Length {len(stream.encode('latin-1'))} >>\nstream\n{stream}\nendstream",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return out


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split())) if s.strip()]


def assert_sentences_of(summary: Any, source: str) -> None:
    """A summary made of whole sentences of ``source`` (whitespace aside)."""
    assert isinstance(summary, str) and summary.strip(), summary
    flat = " ".join(source.split())
    for sentence in sentences(summary):
        assert sentence in flat, (sentence, flat[:300])


def instantiate(user: Any, slug: str) -> str:
    template = Template.objects.get(slug=slug)
    response = client_for(user).post(
        f"/api/v1/templates/{template.public_id}/instantiate", {}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def run(user: Any, slug: str, inputs: dict[str, Any]) -> dict[str, Any]:
    wf = instantiate(user, slug)
    ex = execute(user, wf, inputs=inputs)
    assert wait_terminal(ex, timeout=120).status == "completed", detail(user, wf, ex)
    return detail(user, wf, ex)


@pytest.fixture
def templates(worker: Any) -> None:
    builtin_templates_load()


def test_every_builtin_template_is_tested_here() -> None:
    assert sorted(doc["slug"] for doc in builtin_template_documents()) == SLUGS


def test_text_analysis(templates: None, alice: Any) -> None:
    body = run(alice, "text-analysis", {"text": REVIEW})
    steps = steps_by_id(body)
    assert steps["sentiment"]["result"]["label"] == "POSITIVE"
    assert "Alice Smith" in steps["entities"]["result"]  # capitalized phrases
    assert_sentences_of(steps["summary"]["result"], REVIEW)
    assert body["final_result"]["sentiment"]["label"] == "POSITIVE"


def test_text_analysis_template_falls_back_to_the_builtin_summarizer(
    templates: None, alice: Any
) -> None:
    body = run(alice, "text-analysis-template", {"text": REVIEW})
    analyze = steps_by_id(body)["analyze"]
    assert analyze["model_used"] == "builtin/extractive-summary"  # no gpt-3.5-turbo here
    assert_sentences_of(analyze["result"], REVIEW)


def test_parallel_analysis(templates: None, alice: Any) -> None:
    body = run(alice, "parallel-analysis", {"text": REVIEW})
    combined = steps_by_id(body)["combine_results"]["result"]
    assert combined["sentiment_analysis"]["label"] == "POSITIVE"
    assert "Berlin Institute" in combined["entity_extraction"]
    assert "PRSM" in combined["topic_modeling"]  # YAKE keeps the case


def test_resilient_workflow_falls_back_along_its_chain(templates: None, alice: Any) -> None:
    body = run(alice, "resilient-workflow", {"text": REVIEW})
    summarize = steps_by_id(body)["summarize"]
    assert summarize["model_used"] == "builtin/extractive-summary"
    assert_sentences_of(summarize["result"], REVIEW)


def test_scientific_paper_analysis_on_an_uploaded_pdf(templates: None, alice: Any) -> None:
    pdf = SimpleUploadedFile("paper.pdf", text_pdf(PAPER_SENTENCES), "application/pdf")
    upload = client_for(alice).post("/api/v1/files", {"file": pdf}, format="multipart")
    assert upload.status_code == 201, upload.content
    body = run(alice, "scientific-paper-analysis", {"pdf_url": upload.json()["id"]})
    steps = steps_by_id(body)
    text = steps["extract_text"]["result"]
    assert sentences(text) == PAPER_SENTENCES
    summary = steps["summarize"]["result"]
    assert_sentences_of(summary, text)
    assert len(sentences(summary)) == 3
    methods = steps["extract_methods"]["result"]
    assert isinstance(methods, list)  # YAKE phrases
    assert {"graph neural networks", "molecular properties"} <= set(methods)
    assert body["final_result"] == {"summary": summary, "methods": methods}


def test_literature_review(templates: None, alice: Any) -> None:
    query = "transformer language models"
    body = run(alice, "literature-review", {"research_query": query})
    steps = steps_by_id(body)
    papers = steps["search_papers"]["result"]
    assert papers, "the search found nothing"
    kept = steps["filter_papers"]["result"]
    assert kept and all(p["relevance"] >= 0.8 for p in kept)
    abstracts = steps["extract_abstracts"]["result"]
    assert abstracts == [p["abstract"] for p in kept]
    summary = steps["generate_summary"]["result"]
    assert_sentences_of(summary, " ".join(abstracts))


def test_academic_search_answers_from_the_sample_when_arxiv_is_unreachable(
    settings: Any,
) -> None:
    settings.PRSM_ARXIV_URL = "http://export.arxiv.invalid/api/query"  # never resolves
    with pytest.raises(StepError) as info:
        call("academic_search", "transformer language models", {})
    assert info.value.error_type == "temporary_failure"
    papers = call("academic_search", "ti:transformer", {"offline_fallback": True})
    assert papers and all(p["source"] == "offline_sample" for p in papers)
    assert papers[0]["title"] == "Attention Is All You Need"
    assert call("academic_search", "chocolate cake", {"offline_fallback": True}) == []
