"""Writes on workflows, their versions, sharing and templates.

Callers (API views, commands) authorize first; these functions assume the
caller may do what it asks and say which lock they take.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from guardian.shortcuts import assign_perm

from workflows.access import workflow_access_changed_on_commit
from workflows.audit import AuditContext, audit_record, grants_diff
from workflows.definition.schema import WorkflowDefinition
from workflows.definition.templating import (
    TemplateParameter,
    TemplateParameterError,
    find_template_parameters,
    resolve_parameters,
    substitute,
)
from workflows.definition_checks import definition_require_valid
from workflows.errors import DomainError
from workflows.models import (
    Template,
    Workflow,
    WorkflowGroupObjectPermission,
    WorkflowUserObjectPermission,
    WorkflowVersion,
)
from workflows.permissions import ALL_CODENAMES, CODENAMES, TEAM_PREFIX, Action


class PrincipalUnknown(DomainError):
    """Names in a permission request that are neither a user nor a team (→ 400)."""

    code = "unknown_principal"

    def __init__(self, names: list[str]):
        super().__init__("Unknown users or teams: " + ", ".join(names))
        self.names = names

    def details(self) -> dict[str, Any]:
        return {"names": self.names}


def _version_create(
    *,
    workflow: Workflow,
    number: int,
    definition: WorkflowDefinition,
    document: dict[str, Any],
    author: Any,
    change_note: str,
) -> WorkflowVersion:
    version = WorkflowVersion.objects.create(
        workflow=workflow,
        number=number,
        label=definition.version,
        definition=document,
        author=author,
        change_note=change_note,
    )
    workflow.name = definition.name
    workflow.description = definition.description
    workflow.tags = list(definition.tags)
    workflow.current_version = version
    workflow.updated_at = version.created_at
    workflow.save(update_fields=["name", "description", "tags", "current_version", "updated_at"])
    return version


@transaction.atomic
def workflow_create(
    *,
    owner: Any,
    definition: WorkflowDefinition,
    document: dict[str, Any],
    change_note: str = "",
    audit: AuditContext | None = None,
) -> Workflow:
    """Create a workflow with version 1 and give its owner all four permissions.

    With ``audit``, the creation is recorded in the audit log (same transaction).
    """
    workflow = Workflow.objects.create(
        owner=owner, name=definition.name, description=definition.description
    )
    _version_create(
        workflow=workflow,
        number=1,
        definition=definition,
        document=document,
        author=owner,
        change_note=change_note or "Created",
    )
    for codename in ALL_CODENAMES:
        assign_perm(codename, owner, workflow)
    audit_record(
        context=audit,
        action="created",
        workflow=workflow,
        summary={"name": workflow.name, "version": 1, "change_note": change_note or "Created"},
    )
    return workflow


@transaction.atomic
def workflow_version_publish(
    *,
    workflow: Workflow,
    author: Any,
    definition: WorkflowDefinition,
    document: dict[str, Any],
    change_note: str = "",
    audit: AuditContext | None = None,
) -> WorkflowVersion:
    """Save a new immutable version. Locks the workflow row so numbers never collide."""
    locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
    last = locked.versions.aggregate(n=Max("number"))["n"] or 0
    version = _version_create(
        workflow=locked,
        number=last + 1,
        definition=definition,
        document=document,
        author=author,
        change_note=change_note,
    )
    audit_record(
        context=audit,
        action="updated",
        workflow=locked,
        summary={"version": version.number, "label": version.label, "change_note": change_note},
    )
    workflow.refresh_from_db()
    return version


@transaction.atomic
def workflow_delete(*, workflow: Workflow, audit: AuditContext | None = None) -> None:
    """Soft delete: the workflow disappears from every list; its history stays."""
    deleted = Workflow.objects.filter(pk=workflow.pk, deleted_at__isnull=True).update(
        deleted_at=timezone.now()
    )
    if deleted:
        audit_record(context=audit, action="deleted", workflow=workflow, summary={})
        workflow_access_changed_on_commit(workflow_public_id=workflow.public_id)


def _resolve_principals(names: list[str]) -> tuple[dict[str, Any], dict[str, Group]]:
    users: dict[str, Any] = {}
    teams: dict[str, Group] = {}
    user_names = [n for n in names if not n.startswith(TEAM_PREFIX)]
    team_names = [n[len(TEAM_PREFIX) :] for n in names if n.startswith(TEAM_PREFIX)]
    User = get_user_model()
    for user in User.objects.filter(**{f"{User.USERNAME_FIELD}__in": user_names}, is_active=True):
        users[user.get_username()] = user
    for group in Group.objects.filter(name__in=team_names):
        teams[group.name] = group
    unknown = [n for n in user_names if n not in users] + [
        TEAM_PREFIX + n for n in team_names if n not in teams
    ]
    if unknown:
        raise PrincipalUnknown(sorted(set(unknown)))
    return users, teams


@transaction.atomic
def workflow_permissions_set(
    *,
    workflow: Workflow,
    permissions: Mapping[str, list[str]],
    audit: AuditContext | None = None,
) -> None:
    """Make the grants of each action named in ``permissions`` exactly the listed ones.

    Actions not named are left as they are. The owner always keeps every permission.
    Raises ``PrincipalUnknown`` (nothing changed) if a name is neither a user nor a team.
    With ``audit``, the grants added and removed are recorded (if any changed). Open
    streams of the workflow re-check their reader's access after commit
    (``workflows.access``), so a revoked reader's socket closes.
    """
    Workflow.objects.select_for_update().filter(pk=workflow.pk).first()
    if audit is not None:
        from workflows.selectors import workflow_permissions

        before = workflow_permissions(workflow=workflow)
    all_names = sorted({name for names in permissions.values() for name in names})
    users, teams = _resolve_principals(all_names)
    for action_name, names in permissions.items():
        codename = CODENAMES[Action(action_name)]
        wanted_users = {users[n].pk for n in names if not n.startswith(TEAM_PREFIX)}
        wanted_users.add(workflow.owner_id)
        wanted_teams = {teams[n[len(TEAM_PREFIX) :]].pk for n in names if n.startswith(TEAM_PREFIX)}
        user_rows = WorkflowUserObjectPermission.objects.filter(
            content_object=workflow, permission__codename=codename
        )
        user_rows.exclude(user_id__in=wanted_users).delete()
        have_users = set(user_rows.values_list("user_id", flat=True))
        for user in [*users.values(), workflow.owner]:
            if user.pk in wanted_users and user.pk not in have_users:
                assign_perm(codename, user, workflow)
                have_users.add(user.pk)
        team_rows = WorkflowGroupObjectPermission.objects.filter(
            content_object=workflow, permission__codename=codename
        )
        team_rows.exclude(group_id__in=wanted_teams).delete()
        have_teams = set(team_rows.values_list("group_id", flat=True))
        for team in teams.values():
            if team.pk in wanted_teams and team.pk not in have_teams:
                assign_perm(codename, team, workflow)
                have_teams.add(team.pk)
    workflow_access_changed_on_commit(workflow_public_id=workflow.public_id)
    if audit is not None:
        diff = grants_diff(before, workflow_permissions(workflow=workflow))
        if diff["granted"] or diff["revoked"]:
            audit_record(context=audit, action="shared", workflow=workflow, summary=diff)


def template_create(
    *,
    owner: Any,
    name: str,
    description: str = "",
    category: str = "general",
    parameters: list[TemplateParameter],
    steps_template: list[Any],
    extras: dict[str, Any],
    is_public: bool = False,
) -> Template:
    return Template.objects.create(
        owner=owner,
        name=name,
        description=description,
        category=category,
        parameters=[p.model_dump(mode="json", exclude_none=True) for p in parameters],
        steps_template=steps_template,
        extras=extras,
        is_public=is_public,
    )


def template_document(
    *, template: Template, values: Mapping[str, Any], name: str | None = None
) -> dict[str, Any]:
    """The definition document a template yields for ``values``.

    Raises ``TemplateParameterError`` listing every bad or missing parameter.
    """
    specs = [TemplateParameter.model_validate(p) for p in template.parameters]
    resolved = resolve_parameters(specs, values)
    body = substitute({"steps": template.steps_template, **template.extras}, resolved)
    return {
        "name": name or template.name,
        "description": template.description,
        **body,
    }


_SAMPLES: dict[str, Any] = {
    "string": "sample",
    "integer": 1,
    "number": 1.0,
    "boolean": True,
    "array": [],
    "object": {},
}


def template_check(*, template: Template, user: Any) -> None:
    """Check that a template yields a valid workflow, using each parameter's default
    (or its first allowed value, or a sample of its type). Raises ``DefinitionInvalid``
    or ``TemplateParameterError``.
    """
    specs = [TemplateParameter.model_validate(p) for p in template.parameters]
    declared = {spec.name for spec in specs}
    used = find_template_parameters({"steps": template.steps_template, **template.extras})
    undeclared = sorted(used - declared)
    if undeclared:
        raise TemplateParameterError(
            [
                {"param": name, "message": "used in the template but not declared"}
                for name in undeclared
            ]
        )
    values = {
        spec.name: spec.default
        if spec.default is not None
        else (spec.enum[0] if spec.enum else _SAMPLES[spec.type])
        for spec in specs
    }
    definition_require_valid(template_document(template=template, values=values), user=user)


def template_instantiate(
    *,
    template: Template,
    user: Any,
    values: Mapping[str, Any],
    name: str | None = None,
    audit: AuditContext | None = None,
) -> Workflow:
    """Create a workflow from a template.

    Raises ``TemplateParameterError`` or ``DefinitionInvalid``; nothing is saved then.
    """
    document = template_document(template=template, values=values, name=name)
    checked = definition_require_valid(document, user=user)
    return workflow_create(
        owner=user,
        definition=checked.definition,
        document=checked.document,
        change_note=f"From template '{template.name}'",
        audit=audit,
    )
