"""What other processes ask identity over REST: the ids of the bootstrap
defaults, for a `pocketstack serve` that does not host identity itself."""

from __future__ import annotations

from typing import Any

import httpx

from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.runtime import BootstrapInfo


async def _ids(http: httpx.AsyncClient, url: str, token: str, names: tuple[str, ...]
               ) -> dict[str, str]:
    resp = await http.get(url, params={"domain_id": "default"},
                          headers={"X-Auth-Token": token})
    if resp.status_code != 200:
        raise exc.ServiceUnavailable(f"identity answered {resp.status_code} to GET {url}")
    kind = url.rstrip("/").rsplit("/", 1)[-1]
    found = {o["name"]: o["id"] for o in resp.json()[kind] if o["name"] in names}
    missing = sorted(set(names) - set(found))
    if missing:
        raise exc.ServiceUnavailable(f"identity has no {kind} {', '.join(missing)}: "
                                     "start the identity service once first")
    return found


async def bootstrap_info(http: httpx.AsyncClient, identity_url: str, token: str
                         ) -> BootstrapInfo:
    """The bootstrap defaults as identity has them, looked up with a service token.
    The admin context carries that token (the service user is an admin)."""
    base = identity_url.rstrip("/") + "/v3"
    projects = await _ids(http, base + "/projects", token, ("admin", "demo", "service"))
    users = await _ids(http, base + "/users", token, ("admin", "demo"))
    ctx: Any = RequestContext.admin(user_id=users["admin"], user_name="admin",
                                    project_id=projects["admin"], project_name="admin",
                                    auth_token=token)
    return BootstrapInfo(
        admin_ctx=ctx, admin_project_id=projects["admin"], demo_project_id=projects["demo"],
        service_project_id=projects["service"], admin_user_id=users["admin"],
        demo_user_id=users["demo"])
