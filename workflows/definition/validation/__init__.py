"""Validating a definition document: every problem at once, in plain words.

``validate_definition(data)`` never raises on any JSON-like input. It returns a
:class:`ValidationReport` whose issues each name the step (when there is one),
the field (a path such as ``steps[2].depends_on[0]``) and say in a sentence
what is wrong.

The work is done in two passes:

1. **Structure** — the pydantic models of :mod:`~workflows.definition.schema`.
   Their errors are always reported (nothing else can be trusted without
   them), translated into readable messages.
2. **Meaning** — on every part that parsed (a step whose own structure is fine
   is checked even when another step is broken), grouped as the seed's checks:

   ``syntax_validation``
       an unknown ``generator_function`` or one with steps of its own (dynamic
       workflows), unknown step type, missing type-specific fields, ``input`` together with
       ``inputs``, malformed references, ``${template.*}`` left over, conditions
       that do not compile, fields that the step type ignores (warning),
       duplicate step ids, cyclic fallback models, input defaults of the wrong
       type.
   ``dependency_check``
       unknown or self ``depends_on``, references to unknown steps or to the
       step itself, ``${loop.*}`` outside a loop body, undeclared workflow
       inputs (only when ``input_schema`` declares some), ``final_result`` and
       error handler rules naming unknown steps, ``ui.nodes`` naming unknown
       steps (warning), and cycles (one error per cycle, with its path).
   ``resource_requirements``
       models, functions and fallback models the catalog does not know
       (warnings unless the catalog is strict) and resource requirements no
       worker queue offers (warning).
   ``cost_estimation``
       not a validation: see :mod:`workflows.definition.estimate`.

Issue codes are stable identifiers (clients may branch on them); messages may
change.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

from workflows.definition.validation.catalog import (
    Catalog,
    CatalogView,
    QueueCapacity,
    WorkerQueueSpec,
)
from workflows.definition.validation.report import (
    MAX_DOCUMENT_DEPTH,
    MAX_ISSUES,
    VALIDATION_CHECKS,
    Issue,
    ValidationReport,
)
from workflows.definition.validation.report import (
    Severity as Severity,
)
from workflows.definition.validation.validator import Validator

__all__ = [
    "MAX_DOCUMENT_DEPTH",
    "MAX_ISSUES",
    "VALIDATION_CHECKS",
    "Catalog",
    "CatalogView",
    "Issue",
    "QueueCapacity",
    "ValidationReport",
    "WorkerQueueSpec",
    "validate_definition",
]


logger = logging.getLogger(__name__)


def validate_definition(
    data: Any,
    *,
    catalog: CatalogView | None = None,
    checks: Collection[str] | None = None,
) -> ValidationReport:
    """Validate a definition document; see the module docstring.

    ``checks`` selects among :data:`VALIDATION_CHECKS` (None: all). Structural
    errors are always reported. An unknown check name raises ``ValueError``
    (a programming error, not a problem with the document).
    """
    selected = set(VALIDATION_CHECKS if checks is None else checks)
    unknown = selected - set(VALIDATION_CHECKS)
    if unknown:
        raise ValueError(
            f"unknown validation check(s): {', '.join(sorted(unknown))} "
            f"(expected: {', '.join(VALIDATION_CHECKS)})"
        )
    validator = Validator(data, catalog, selected)
    try:
        return validator.run()
    except (RecursionError, MemoryError):
        issue = Issue("error", "too_complex", "The definition is too large or too deep to check.")
    except Exception:  # never let a bad document become a server error
        logger.exception("validate_definition failed")
        issue = Issue(
            "error", "validation_failed", "The definition could not be checked completely."
        )
    return ValidationReport([*validator.errors, issue], validator.warnings, None)
