"""What every REST client here shares: one request, its errors mapped to ours."""

from __future__ import annotations

from typing import Any

import httpx

from pocketstack.core import exceptions as exc


class RestClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str,
                 headers: dict[str, str] | None = None):
        self.http, self.base = http, base_url.rstrip("/")
        self.headers = headers or {}

    async def request(self, token: str | None, method: str, path: str, *,
                      ok: tuple[int, ...] = (200, 201, 202, 204), **kw: Any) -> Any:
        headers = dict(self.headers, **kw.pop("headers", {}))
        if token:
            headers["X-Auth-Token"] = token
        try:
            resp = await self.http.request(method, self.base + path, headers=headers, **kw)
        except httpx.HTTPError as err:
            raise exc.ServiceUnavailable(f"{method} {self.base}{path}: {err}") from None
        if resp.status_code not in ok:
            raise exc.for_status(resp.status_code, _message(resp))
        if resp.status_code == 204 or not resp.content:
            return None
        return resp.json()


def _message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:300] or f"HTTP {resp.status_code}"
    if isinstance(body, dict):
        for value in body.values():
            if isinstance(value, dict) and "message" in value:
                return str(value["message"])
        if "errors" in body and body["errors"]:
            return str(body["errors"][0].get("detail", body["errors"][0]))
        if "message" in body:
            return str(body["message"])
    return str(body)[:300]
