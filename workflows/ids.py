"""Public identifiers: a short prefix and random lowercase base32 (``wf_k3j9…``)."""

import base64
import secrets


def new_public_id(prefix: str) -> str:
    raw = base64.b32encode(secrets.token_bytes(10)).decode().lower().rstrip("=")
    return f"{prefix}_{raw}"


def workflow_id() -> str:
    return new_public_id("wf")


def template_id() -> str:
    return new_public_id("tpl")
