"""The HTTP transport: authentication, JSON, typed errors and retries."""

from __future__ import annotations

import os
import time
from typing import Any

import httpx

from prsm.errors import NetworkError, PRSMError, error_from_response

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({502, 503, 504})


class Transport:
    """One ``httpx.Client`` bound to ``{base_url}/api/v1`` with the API key.

    Idempotent requests (GET, PUT, DELETE) are tried up to ``max_tries`` times on
    network errors and 502/503/504, waiting ``backoff * 2**n`` seconds in between.
    POSTs are sent once: retrying one could start a second execution.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 30.0,
        max_tries: int = 3,
        backoff: float = 0.25,
        http_client: httpx.Client | None = None,
    ) -> None:
        self.api_key = api_key if api_key is not None else os.environ.get("PRSM_API_KEY")
        self.base_url = (base_url or os.environ.get("PRSM_BASE_URL") or DEFAULT_BASE_URL).rstrip(
            "/"
        )
        self.api_root = f"{self.base_url}/api/v1"
        self.max_tries = max(1, max_tries)
        self.backoff = backoff
        headers = {"Accept": "application/json", "User-Agent": "prsm-python-sdk/0.1"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        self.http = http_client or httpx.Client(
            base_url=self.api_root, headers=headers, timeout=timeout
        )
        if http_client is not None:
            self.http.headers.update(headers)

    @property
    def ws_base(self) -> str:
        """``ws://host:port`` (or ``wss://``) for the websocket endpoints."""
        if self.base_url.startswith("https://"):
            return "wss://" + self.base_url[len("https://") :]
        if self.base_url.startswith("http://"):
            return "ws://" + self.base_url[len("http://") :]
        return self.base_url

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        content: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        raw: bool = False,
    ) -> Any:
        """Send a request; return the decoded JSON body (``None`` for 204), or raise.

        With ``raw=True`` return the response text instead of decoding JSON.
        """
        method = method.upper()
        tries = self.max_tries if method in IDEMPOTENT else 1
        clean_params = {k: v for k, v in (params or {}).items() if v is not None}
        last_error: Exception | None = None
        for attempt in range(tries):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self.http.request(
                    method,
                    path,
                    json=json,
                    params=clean_params or None,
                    content=content,
                    headers=headers,
                )
            except httpx.TransportError as exc:
                last_error = exc
                continue
            if response.status_code in RETRY_STATUSES and attempt + 1 < tries:
                continue
            return self._decode(response, raw=raw)
        raise NetworkError(
            f"{method} {self.api_root}{path} failed after {tries} tries: {last_error}"
        ) from last_error

    @staticmethod
    def _decode(response: httpx.Response, *, raw: bool) -> Any:
        if response.status_code >= 400:
            try:
                body: Any = response.json()
            except ValueError:
                body = response.text
            raise error_from_response(response.status_code, body, response.headers)
        if response.status_code == 204 or not response.content:
            return None
        if raw:
            return response.text
        try:
            return response.json()
        except ValueError as exc:
            raise PRSMError(
                f"Expected JSON from the server, got {response.headers.get('content-type')}",
                status_code=response.status_code,
                body=response.text,
            ) from exc

    def close(self) -> None:
        self.http.close()
