"""Reads behind the pages: the workflows list with each row's last run, and what
the caller may do with one workflow. Built on ``workflows.selectors``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from guardian.shortcuts import get_perms

from workflows import registry, selectors
from workflows.models import Workflow
from workflows.permissions import Action, codenames_granting

# What the list page offers; anything else falls back to the default.
SORTS: dict[str, str] = {
    "-updated_at": "Recently updated",
    "-created_at": "Newest first",
    "created_at": "Oldest first",
    "name": "Name (A–Z)",
    "-name": "Name (Z–A)",
}
DEFAULT_SORT = "-updated_at"
WORKFLOW_STATUSES: dict[str, str] = {
    "created": "Not run yet",
    "queued": "Queued",
    "running": "Running",
    "completed": "Completed",
    "failed": "Failed",
    "cancelled": "Cancelled",
    "timed_out": "Timed out",
}


@dataclass(frozen=True)
class ListQuery:
    """The list page's GET form, cleaned: unknown values fall back to defaults."""

    search: str = ""
    status: str = ""
    sort: str = DEFAULT_SORT
    shared: bool = False

    @classmethod
    def from_params(cls, params: Any) -> ListQuery:
        status = params.get("status", "")
        sort = params.get("sort", DEFAULT_SORT)
        return cls(
            search=params.get("q", "").strip()[:200],
            status=status if status in WORKFLOW_STATUSES else "",
            sort=sort if sort in SORTS else DEFAULT_SORT,
            shared=params.get("shared", "") in {"1", "on", "true"},
        )

    @property
    def is_filtered(self) -> bool:
        return bool(self.search or self.status or self.shared)


def workflow_rows(*, user: Any, query: ListQuery) -> QuerySet[Workflow]:
    """Workflows ``user`` may read, filtered and sorted, each annotated with its
    latest run (test runs included): ``last_run_id``, ``last_run_status``,
    ``last_run_at``. One SQL query for the rows however many there are."""
    runs = registry.run_history()
    qs = selectors.workflow_list(
        user=user,
        status=query.status or None,
        search=query.search or None,
        sort=query.sort,
        shared_with_me=query.shared,
    )
    return qs.annotate(
        last_run_id=runs.latest_run(field="id", include_test=True),
        last_run_status=runs.latest_run(field="status", include_test=True),
        last_run_at=runs.latest_run(field="at", include_test=True),
    )


def workflow_actions(user: Any, workflow: Workflow) -> set[Action]:
    """The actions ``user`` may take on ``workflow`` (one permission lookup).

    Any of the four permissions implies read; superusers may do everything, staff
    may read every workflow (``selectors.staff_reads``).
    """
    if user.is_superuser:
        return set(Action)
    held = set(get_perms(user, workflow))
    actions = {a for a in Action if any(c in held for c in codenames_granting(a))}
    return actions | {a for a in Action if selectors.staff_reads(user, a)}
