"""Reads: what a user may see, with the permission checks behind every detail."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib.auth.models import AnonymousUser, Group
from django.db.models import CharField, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from guardian.shortcuts import get_objects_for_user, get_perms

from workflows import registry
from workflows.errors import ActionForbidden, NotFound
from workflows.models import (
    Template,
    Workflow,
    WorkflowGroupObjectPermission,
    WorkflowUserObjectPermission,
    WorkflowVersion,
)
from workflows.permissions import ACTION_BY_CODENAME, TEAM_PREFIX, Action, codenames_granting

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

User = Any  # django.contrib.auth user; kept loose for AnonymousUser too

WORKFLOW_SORTS = {"created_at", "name", "status", "updated_at"}


class WorkflowNotFound(NotFound):
    """The workflow does not exist or the caller may not read it (both read as 404)."""


class _Status(TypedDict):
    status: str


if TYPE_CHECKING:
    #: A workflow annotated with ``status``: "created", or its latest real run's status.
    WorkflowWithStatus = WithAnnotations[Workflow, _Status]


def _with_status(qs: QuerySet[Workflow]) -> QuerySet[WorkflowWithStatus]:
    """``created`` until the first (non-test) run, then the latest run's status."""
    latest = registry.run_history().latest_run(field="status", include_test=False)
    return qs.annotate(status=Coalesce(latest, Value("created"), output_field=CharField()))


#: What ``status`` of a workflow may be: "created" until its first real run, then
#: that of its latest run (the execution statuses, which ``executions`` owns).
WORKFLOW_STATUSES = (
    "created",
    "queued",
    "running",
    "completed",
    "failed",
    "cancelled",
    "timed_out",
)


def workflows_for_user(user: User, *, action: Action = Action.READ) -> QuerySet[WorkflowWithStatus]:
    """Live workflows on which ``user`` may perform ``action`` (one SQL query, no N+1).

    Superusers may do everything; staff may read every workflow (and so its runs,
    its versions and who has access, and change that: the API lets staff share),
    but run, edit or delete only what they are granted, like anyone.
    """
    if isinstance(user, AnonymousUser) or not user.is_authenticated:
        return _with_status(Workflow.objects.none())
    if staff_reads(user, action):
        return _with_status(Workflow.objects.alive().select_related("owner", "current_version"))
    qs = get_objects_for_user(
        user,
        list(codenames_granting(action)),
        klass=Workflow.objects.alive(),
        any_perm=True,
        accept_global_perms=False,
        with_superuser=True,
    )
    return _with_status(qs.select_related("owner", "current_version"))


def workflow_list(
    *,
    user: User,
    status: str | None = None,
    search: str | None = None,
    sort: str = "-created_at",
    shared_with_me: bool = False,
) -> QuerySet[WorkflowWithStatus]:
    qs = workflows_for_user(user)
    if status:
        qs = qs.filter(status=status)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(description__icontains=search))
    if shared_with_me:
        qs = qs.exclude(owner=user)
    field = sort.lstrip("-")
    if field not in WORKFLOW_SORTS:
        raise ValueError(f"sort must be one of {sorted(WORKFLOW_SORTS)} (prefix '-' to reverse)")
    return qs.order_by(sort, "-id" if sort.startswith("-") else "id")


def workflow_get(*, user: User, public_id: str, action: Action = Action.READ) -> Workflow:
    """The workflow, if the caller may perform ``action``.

    A caller who may not even read it gets ``WorkflowNotFound``; one who may read
    but not act gets ``ActionForbidden`` (403).
    """
    workflow = workflows_for_user(user).filter(public_id=public_id).first()
    if workflow is None:
        raise WorkflowNotFound(public_id)
    if action is not Action.READ and not user_can(user, workflow, action):
        raise ActionForbidden(f"You may not {action.value} this workflow.")
    return workflow


def staff_reads(user: User, action: Action) -> bool:
    """Whether ``user`` may take ``action`` on any workflow for being staff: read only."""
    return action is Action.READ and bool(user.is_staff) and bool(user.is_active)


def user_can(user: User, workflow: Workflow, action: Action) -> bool:
    if user.is_superuser or staff_reads(user, action):
        return True
    held = set(get_perms(user, workflow))
    return any(codename in held for codename in codenames_granting(action))


def user_actions(user: User, workflow: Workflow) -> list[str]:
    return [action.value for action in Action if user_can(user, workflow, action)]


def workflow_versions(*, workflow: Workflow) -> QuerySet[WorkflowVersion]:
    return workflow.versions.select_related("author").order_by("-number")


def workflow_permissions(*, workflow: Workflow) -> dict[str, list[str]]:
    """The seed's shape: ``{"read": ["alice", "team:lab"], "execute": [...], ...}``."""
    result: dict[str, list[str]] = {action.value: [] for action in Action}
    user_rows = WorkflowUserObjectPermission.objects.filter(content_object=workflow).select_related(
        "user", "permission"
    )
    for row in user_rows:
        result[ACTION_BY_CODENAME[row.permission.codename].value].append(row.user.get_username())
    group_rows = WorkflowGroupObjectPermission.objects.filter(
        content_object=workflow
    ).select_related("group", "permission")
    for group_row in group_rows:
        result[ACTION_BY_CODENAME[group_row.permission.codename].value].append(
            TEAM_PREFIX + group_row.group.name
        )
    return {action: sorted(set(names)) for action, names in result.items()}


def templates_for_user(user: User) -> QuerySet[Template]:
    """Public templates (built-ins included) and the caller's own."""
    qs = Template.objects.select_related("owner")
    if not user.is_authenticated:
        return qs.filter(is_public=True)
    return qs.filter(Q(is_public=True) | Q(owner=user))


def teams_for_user(user: User) -> QuerySet[Group]:
    return user.groups.order_by("name")
