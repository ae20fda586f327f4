"""``POST /catalog/models/test``: one tiny request to a model, to check it answers.

The Models page's "Test" button. The caller may test only a model their steps may
name (the catalog's list for them); anything else is a 404, as elsewhere. The request
is sent from the web machine, through the provider a step would use, so the answer or
the mapped error (``model_unavailable``, ``rate_limit``, …) is what a step would get.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from executions.steps import providers
from executions.steps.base import StepError
from workflows import catalog
from workflows.api.parsers import LimitedJSONParser

#: The tiny request: a short sentence every kind of model can answer.
TEST_PROMPT = "This is a connection test. Reply with one short sentence."
#: Enough for a chat model to say something, and a bound on what it may cost.
TEST_PARAMETERS: dict[str, Any] = {"max_tokens": 16, "request_timeout": 15}
MAX_ANSWER_CHARS = 500


def _answer_text(output: Any) -> str:
    text = output if isinstance(output, str) else repr(output)
    return text if len(text) <= MAX_ANSWER_CHARS else text[:MAX_ANSWER_CHARS] + "…"


class ModelTestView(APIView):
    parser_classes = [LimitedJSONParser]
    error_statuses = (404,)  # a model the caller may not use, or none of that name

    @extend_schema(
        request={
            "application/json": {
                "type": "object",
                "properties": {"model": {"type": "string", "pattern": r"\S"}},
                "required": ["model"],
            }
        },
        responses={200: OpenApiTypes.OBJECT},
        description="Send one tiny request to a model the caller may use: "
        "{ok: true, answer} or {ok: false, error: {type, message}}.",
    )
    def post(self, request: Request) -> Response:
        model = request.data.get("model") if isinstance(request.data, dict) else None
        if not isinstance(model, str) or not model.strip():
            raise ValidationError({"model": ["Name the model to test."]})
        if model not in catalog.catalog_for_user(request.user).models:
            raise NotFound(f"There is no model '{model}' you may use.")
        parameters = {} if model.startswith(("builtin/", "mock/")) else TEST_PARAMETERS
        try:
            completion = providers.complete(
                model, TEST_PROMPT, parameters, mock_models={}, user_id=request.user.pk
            )
        except StepError as exc:
            return Response(
                {
                    "ok": False,
                    "model": model,
                    "error": {"type": exc.error_type, "message": exc.message},
                }
            )
        return Response({"ok": True, "model": model, "answer": _answer_text(completion.output)})
