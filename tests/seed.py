"""The seed's documents, verbatim, for tests that post them as a user would."""

from __future__ import annotations

import json
from typing import Any

SCIENTIFIC_PAPER_ANALYSIS_JSON = """
{
  "name": "Scientific Paper Analysis",
  "description": "Comprehensive analysis of scientific papers",
  "version": "1.0",
  "steps": [
    {
      "id": "extract_text",
      "type": "data_processing",
      "function": "pdf_to_text",
      "input": "${workflow.input.pdf_url}",
      "timeout": 300
    },
    {
      "id": "summarize",
      "type": "inference",
      "model": "gpt-4",
      "input": "Summarize this paper: ${extract_text.result}",
      "depends_on": ["extract_text"],
      "parameters": {
        "max_tokens": 500,
        "temperature": 0.3
      }
    },
    {
      "id": "extract_methods",
      "type": "inference",
      "model": "scibert",
      "input": "Extract methodology from: ${extract_text.result}",
      "depends_on": ["extract_text"]
    },
    {
      "id": "final_analysis",
      "type": "aggregation",
      "function": "combine_results",
      "inputs": {
        "summary": "${summarize.result}",
        "methods": "${extract_methods.result}"
      },
      "depends_on": ["summarize", "extract_methods"]
    }
  ],
  "error_handling": {
    "retry_failed_steps": true,
    "max_retries": 3,
    "fallback_models": {
      "gpt-4": "gpt-3.5-turbo",
      "scibert": "bert-base-uncased"
    }
  },
  "resource_requirements": {
    "cpu_cores": 4,
    "ram_gb": 8,
    "gpu_required": false
  }
}
"""


def scientific_paper_analysis() -> dict[str, Any]:
    return json.loads(SCIENTIFIC_PAPER_ANALYSIS_JSON)


def text_analysis_pipeline() -> dict[str, Any]:
    return {
        "name": "Text Analysis Pipeline",
        "description": "Analyze text sentiment and extract entities",
        "steps": [
            {
                "id": "sentiment",
                "type": "inference",
                "model": "cardiffnlp/twitter-roberta-base-sentiment-latest",
                "input": "${workflow.input.text}",
            },
            {
                "id": "entities",
                "type": "inference",
                "model": "dbmdz/bert-large-cased-finetuned-conll03-english",
                "input": "${workflow.input.text}",
                "depends_on": ["sentiment"],
            },
            {
                "id": "summary",
                "type": "inference",
                "model": "gpt-3.5-turbo",
                "input": "Summarize: Sentiment=${sentiment.result}, Entities=${entities.result}",
                "depends_on": ["sentiment", "entities"],
            },
        ],
    }


TEXT_ANALYSIS_TEMPLATE: dict[str, Any] = {
    "name": "Text Analysis Template",
    "parameters": [
        {"name": "input_model", "type": "string", "default": "gpt-3.5-turbo"},
        {"name": "max_tokens", "type": "integer", "default": 150},
        {"name": "analysis_depth", "type": "string", "enum": ["basic", "detailed"]},
    ],
    "steps_template": [
        {
            "id": "analyze",
            "type": "inference",
            "model": "${template.input_model}",
            "parameters": {"max_tokens": "${template.max_tokens}"},
        },
    ],
}
