"""The audit log: recording and reading append-only ``AuditEntry`` rows.

Services and API views call :func:`audit_record` with an :class:`AuditContext`
(who, from which address) that the view builds from the request with
:func:`audit_context`. Who may read what: staff read every entry; other users
read the entries on workflows they own (and the executions of those) and the
entries of their own actions.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from workflows.models import AuditEntry, Workflow

Action = AuditEntry.Action


@dataclass(frozen=True)
class AuditContext:
    """Who acts and from where; built by the API view from the request."""

    actor: Any
    client_address: str | None = None


def _address(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        return None


def audit_context(request: Any) -> AuditContext:
    """The request's user and client address (``REMOTE_ADDR``: the peer the server saw;
    behind a proxy, configure the proxy to set it rather than trusting a header here)."""
    return AuditContext(
        actor=request.user, client_address=_address(request.META.get("REMOTE_ADDR"))
    )


def audit_record(
    *,
    context: AuditContext | None,
    action: str,
    workflow: Workflow,
    execution: Any = None,
    summary: dict[str, Any] | None = None,
) -> AuditEntry | None:
    """Append one entry about ``workflow`` (or one of its ``execution``-s).

    ``context=None`` (a management command, a test helper) records nothing.
    """
    if context is None:
        return None
    actor = context.actor if getattr(context.actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "",
        action=action,
        object_type="execution" if execution is not None else "workflow",
        object_id=execution.public_id if execution is not None else workflow.public_id,
        workflow_public_id=workflow.public_id,
        client_address=context.client_address,
        summary=summary or {},
    )


def grants_diff(
    before: dict[str, list[str]], after: dict[str, list[str]]
) -> dict[str, dict[str, list[str]]]:
    """``{"granted": {action: [names]}, "revoked": {action: [names]}}`` between two
    permission maps (the seed's ``{"read": [...], ...}`` shape); empty actions left out."""
    granted: dict[str, list[str]] = {}
    revoked: dict[str, list[str]] = {}
    for action in sorted(set(before) | set(after)):
        old, new = set(before.get(action, [])), set(after.get(action, []))
        if new - old:
            granted[action] = sorted(new - old)
        if old - new:
            revoked[action] = sorted(old - new)
    return {"granted": granted, "revoked": revoked}


def audit_entries_for_user(
    user: Any,
    *,
    object_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEntry]:
    """The entries ``user`` may read, newest first, filtered as asked.

    ``object_id`` matches the object itself or, for a workflow id, its executions too.
    """
    qs = AuditEntry.objects.all()
    if not user.is_staff and not user.is_superuser:
        owned = Workflow.objects.filter(owner=user).values("public_id")
        qs = qs.filter(Q(workflow_public_id__in=owned) | Q(actor=user))
    if object_id:
        qs = qs.filter(Q(object_id=object_id) | Q(workflow_public_id=object_id))
    if actor:
        qs = qs.filter(actor_name=actor)
    if action:
        qs = qs.filter(action=action)
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    return qs.order_by("-created_at", "-id")


def audit_entry_dict(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "time": entry.created_at,
        "actor": entry.actor_name or None,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "workflow_id": entry.workflow_public_id,
        "client_address": entry.client_address,
        "summary": entry.summary,
    }
