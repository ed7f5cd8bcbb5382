"""The network API's REST client, for other services (the compute agent creates
and binds an instance's ports with it, steps 22-24 of a launch). Every call
carries the caller's token (`ctx.auth_token`); a Neutron error comes back as
the core.exceptions error of its status, with Neutron's type in `neutron_type`.
network/fake_client.py is a stateful fake of it for other services' tests."""

from __future__ import annotations

from typing import Any

import httpx

from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext

COMPUTE_OWNER = "compute:nova"


class NetworkClient:
    def __init__(self, http: httpx.AsyncClient, url: str):
        """`url` is the service's root (the catalog endpoint, e.g. .../networking)."""
        self.http = http
        self.url = url.rstrip("/") + "/v2.0"

    async def _request(self, ctx: RequestContext, method: str, path: str,
                       **kw: Any) -> Any:
        headers = {"X-Auth-Token": ctx.auth_token or "",
                   "X-OpenStack-Request-ID": ctx.global_request_id or ctx.request_id}
        try:
            resp = await self.http.request(method, self.url + path, headers=headers, **kw)
        except httpx.HTTPError as err:
            raise exc.ServiceUnavailable(f"network service unreachable: {err}") from None
        if resp.status_code >= 400:
            raise _error(resp)
        return resp.json() if resp.content else None

    # -- ports --------------------------------------------------------------------

    async def create_port(self, ctx: RequestContext, network_id: str, *, device_id: str = "",
                          device_owner: str = COMPUTE_OWNER, host: str | None = None,
                          fixed_ips: list[dict[str, str]] | None = None,
                          security_groups: list[str] | None = None,
                          **attrs: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"network_id": network_id, "device_id": device_id,
                                "device_owner": device_owner, **attrs}
        if host is not None:
            body["binding:host_id"] = host
        if fixed_ips is not None:
            body["fixed_ips"] = fixed_ips
        if security_groups is not None:
            body["security_groups"] = security_groups
        return (await self._request(ctx, "POST", "/ports", json={"port": body}))["port"]

    async def update_port(self, ctx: RequestContext, port_id: str,
                          **attrs: Any) -> dict[str, Any]:
        body = {"port": attrs}
        return (await self._request(ctx, "PUT", f"/ports/{port_id}", json=body))["port"]

    async def bind_port(self, ctx: RequestContext, port_id: str, host: str, device_id: str,
                        device_owner: str = COMPUTE_OWNER) -> dict[str, Any]:
        """Give the port to an instance on `host`; the host's agent makes it ACTIVE."""
        return await self.update_port(ctx, port_id, device_id=device_id,
                                      device_owner=device_owner, **{"binding:host_id": host})

    async def unbind_port(self, ctx: RequestContext, port_id: str) -> dict[str, Any]:
        return await self.update_port(ctx, port_id, device_id="", device_owner="",
                                      **{"binding:host_id": ""})

    async def delete_port(self, ctx: RequestContext, port_id: str,
                          ignore_missing: bool = True) -> None:
        try:
            await self._request(ctx, "DELETE", f"/ports/{port_id}")
        except exc.NotFound:
            if not ignore_missing:
                raise

    async def get_port(self, ctx: RequestContext, port_id: str) -> dict[str, Any]:
        return (await self._request(ctx, "GET", f"/ports/{port_id}"))["port"]

    async def list_ports(self, ctx: RequestContext, device_id: str | None = None,
                         **filters: Any) -> list[dict[str, Any]]:
        params = dict(filters)
        if device_id is not None:
            params["device_id"] = device_id
        return (await self._request(ctx, "GET", "/ports", params=params))["ports"]

    # -- security groups -----------------------------------------------------------

    async def security_group_ids(self, ctx: RequestContext, names: list[str]) -> list[str]:
        """The ids of the caller's security groups named (by name or id) in `names`;
        BadRequest when one is not found (as Nova answers a server create)."""
        groups = (await self._request(ctx, "GET", "/security-groups"))["security_groups"]
        return resolve_groups(groups, names)

    # -- networks and subnets ------------------------------------------------------

    async def list_all(self, ctx: RequestContext, collection: str,
                       **filters: Any) -> list[dict[str, Any]]:
        """Any collection by its URL name ("security-groups", "routers", ...)."""
        body = await self._request(ctx, "GET", f"/{collection}", params=filters)
        return body[collection.replace("-", "_")]

    async def get_network(self, ctx: RequestContext, network_id: str) -> dict[str, Any]:
        return (await self._request(ctx, "GET", f"/networks/{network_id}"))["network"]

    async def list_networks(self, ctx: RequestContext, **filters: Any) -> list[dict[str, Any]]:
        return (await self._request(ctx, "GET", "/networks", params=filters))["networks"]

    async def get_subnet(self, ctx: RequestContext, subnet_id: str) -> dict[str, Any]:
        return (await self._request(ctx, "GET", f"/subnets/{subnet_id}"))["subnet"]

    async def list_subnets(self, ctx: RequestContext, **filters: Any) -> list[dict[str, Any]]:
        return (await self._request(ctx, "GET", "/subnets", params=filters))["subnets"]

    async def instance_networks(self, ctx: RequestContext,
                                device_id: str) -> list[dict[str, Any]]:
        """An instance's ports, each with its network and its subnets (Nova's
        network_info): [{"port": {...}, "network": {...}, "subnets": [{...}]}]."""
        out = []
        for port in await self.list_ports(ctx, device_id=device_id):
            subnet_ids = list(dict.fromkeys(f["subnet_id"] for f in port["fixed_ips"]))
            subnets = await self.list_subnets(ctx, id=subnet_ids) if subnet_ids else []
            out.append({"port": port, "network": await self.get_network(ctx, port["network_id"]),
                        "subnets": subnets})
        return out


def resolve_groups(groups: list[dict[str, Any]], names: list[str]) -> list[str]:
    ids = []
    for name in names:
        match = [g["id"] for g in groups if name in (g["id"], g["name"])]
        if not match:
            raise exc.BadRequest(f"Security group {name} not found.")
        ids.append(match[0])
    return ids


def _error(resp: httpx.Response) -> exc.PocketstackError:
    kind, message = None, resp.text
    try:
        body = resp.json().get("NeutronError") or {}
        kind, message = body.get("type"), body.get("message", message)
    except (ValueError, AttributeError):
        pass
    err = exc.for_status(resp.status_code, message)
    err.neutron_type = kind
    return err
