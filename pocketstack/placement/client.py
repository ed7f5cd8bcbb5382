"""The Placement REST client other services import (the scheduler claims through
it, compute agents report their providers through it).

Every call speaks microversion 1.39. Writes guarded by a provider generation
(inventories, traits, aggregates) re-read the generation and retry on a 409
`placement.concurrent_update`, up to `retries` times. `claim` returns False
on any 409 (capacity gone or the consumer changed meanwhile) so the scheduler
can try the next candidate. Inventory reports are cached per provider for
`cache_ttl` seconds: reporting the same inventory again costs no request.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from pocketstack.core import exceptions as exc

if TYPE_CHECKING:
    from pocketstack.runtime import Runtime

MICROVERSION = "1.39"
CONCURRENT_UPDATE = "placement.concurrent_update"

TokenSource = Callable[[], Awaitable[str]]
Amounts = dict[str, dict[str, int]]  # provider uuid -> resource class -> amount


@dataclass
class Provider:
    uuid: str
    name: str
    generation: int
    parent_provider_uuid: str | None = None
    root_provider_uuid: str | None = None


@dataclass
class ConsumerAllocations:
    allocations: Amounts
    consumer_generation: int | None = None  # None: the consumer does not exist
    project_id: str | None = None
    user_id: str | None = None
    consumer_type: str | None = None


@dataclass
class Candidates:
    allocation_requests: list[Amounts]  # each: a whole claim to pass to `claim`
    provider_summaries: dict[str, dict[str, Any]] = field(default_factory=dict)


class PlacementClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str, token: str | TokenSource,
                 *, retries: int = 5, cache_ttl: float = 300.0):
        self.http = http
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.retries = retries
        self.cache_ttl = cache_ttl
        self._inventories: dict[str, tuple[float, int, dict]] = {}

    @classmethod
    def for_service(cls, runtime: Runtime, **kw: Any) -> PlacementClient:
        """A client that calls with the service's own token (what services use)."""
        assert runtime.validator is not None, "the runtime has no identity yet"
        return cls(runtime.http, runtime.url("placement"), runtime.validator.service_token,
                   **kw)

    @classmethod
    def with_token(cls, runtime: Runtime, token: str, **kw: Any) -> PlacementClient:
        return cls(runtime.http, runtime.url("placement"), token, **kw)

    # -- transport --------------------------------------------------------------

    async def _request(self, method: str, path: str, *, json: Any = None,
                       params: Any = None, ok: Iterable[int] = (200,)) -> httpx.Response:
        token = self._token if isinstance(self._token, str) else await self._token()
        headers = {"X-Auth-Token": token, "OpenStack-API-Version": f"placement {MICROVERSION}"}
        resp = await self.http.request(method, self.base_url + path, json=json,
                                       params=params, headers=headers)
        if resp.status_code not in ok:
            raise error_of(resp)
        return resp

    # -- resource providers -----------------------------------------------------

    async def get_provider(self, uuid: str) -> Provider | None:
        resp = await self._request("GET", f"/resource_providers/{uuid}", ok=(200, 404))
        return None if resp.status_code == 404 else _provider(resp.json())

    async def ensure_provider(self, uuid: str, name: str,
                              parent_uuid: str | None = None) -> Provider:
        """The provider with this uuid, created (with that name and parent) if missing."""
        found = await self.get_provider(uuid)
        if found is not None:
            return found
        body: dict[str, Any] = {"uuid": uuid, "name": name}
        if parent_uuid is not None:
            body["parent_provider_uuid"] = parent_uuid
        resp = await self._request("POST", "/resource_providers", json=body, ok=(200, 409))
        if resp.status_code == 200:
            return _provider(resp.json())
        found = await self.get_provider(uuid)  # someone else created it meanwhile
        if found is None:
            raise error_of(resp)  # the name belongs to another provider
        return found

    async def list_providers(self, **filters: str) -> list[Provider]:
        resp = await self._request("GET", "/resource_providers", params=filters)
        return [_provider(p) for p in resp.json()["resource_providers"]]

    async def delete_provider(self, uuid: str) -> bool:
        """False when it did not exist; 409 (allocations, children) raises Conflict."""
        self._inventories.pop(uuid, None)
        resp = await self._request("DELETE", f"/resource_providers/{uuid}", ok=(204, 404))
        return resp.status_code == 204

    # -- inventories, traits, aggregates ------------------------------------------

    async def get_inventories(self, uuid: str) -> tuple[int, dict[str, dict]]:
        body = (await self._request("GET", f"/resource_providers/{uuid}/inventories")).json()
        return body["resource_provider_generation"], body["inventories"]

    async def set_inventories(self, uuid: str, inventories: dict[str, dict]) -> int:
        """Make the provider's inventory exactly this ({"VCPU": {"total": 8, ...}});
        returns the provider generation. Unchanged since the last call: no request."""
        wanted = {rc: _inventory(inv) for rc, inv in inventories.items()}
        cached = self._inventories.get(uuid)
        if cached and cached[0] > time.monotonic() and cached[2] == wanted:
            return cached[1]

        async def attempt(generation: int) -> httpx.Response:
            return await self._request(
                "PUT", f"/resource_providers/{uuid}/inventories", ok=(200, 409),
                json={"resource_provider_generation": generation, "inventories": wanted})

        body = await self._with_generation(uuid, "inventories", attempt, cached)
        self._inventories[uuid] = (time.monotonic() + self.cache_ttl,
                                   body["resource_provider_generation"], wanted)
        return body["resource_provider_generation"]

    async def set_traits(self, uuid: str, traits: Iterable[str]) -> int:
        names = sorted(set(traits))

        async def attempt(generation: int) -> httpx.Response:
            return await self._request(
                "PUT", f"/resource_providers/{uuid}/traits", ok=(200, 409),
                json={"resource_provider_generation": generation, "traits": names})

        body = await self._with_generation(uuid, "traits", attempt)
        return body["resource_provider_generation"]

    async def get_traits(self, uuid: str) -> list[str]:
        return (await self._request("GET", f"/resource_providers/{uuid}/traits")).json()["traits"]

    async def ensure_traits(self, names: Iterable[str]) -> None:
        """Create the CUSTOM_* traits that do not exist yet."""
        for name in names:
            if name.startswith("CUSTOM_"):
                await self._request("PUT", f"/traits/{name}", ok=(201, 204))

    async def ensure_resource_class(self, name: str) -> None:
        await self._request("PUT", f"/resource_classes/{name}", ok=(201, 204))

    async def set_aggregates(self, uuid: str, aggregates: Iterable[str]) -> int:
        uuids = sorted(set(aggregates))

        async def attempt(generation: int) -> httpx.Response:
            return await self._request(
                "PUT", f"/resource_providers/{uuid}/aggregates", ok=(200, 409),
                json={"resource_provider_generation": generation, "aggregates": uuids})

        body = await self._with_generation(uuid, "aggregates", attempt)
        return body["resource_provider_generation"]

    async def get_aggregates(self, uuid: str) -> list[str]:
        resp = await self._request("GET", f"/resource_providers/{uuid}/aggregates")
        return resp.json()["aggregates"]

    async def _with_generation(self, uuid: str, what: str,
                               attempt: Callable[[int], Awaitable[httpx.Response]],
                               cached: tuple[float, int, dict] | None = None) -> dict:
        """Run a generation-guarded write, re-reading the generation after a conflict."""
        generation = cached[1] if cached else None
        for _ in range(self.retries):
            if generation is None:
                provider = await self.get_provider(uuid)
                if provider is None:
                    raise exc.NotFound(f"No resource provider with uuid {uuid} found")
                generation = provider.generation
            resp = await attempt(generation)
            if resp.status_code == 200:
                return resp.json()
            if _code(resp) != CONCURRENT_UPDATE:
                raise error_of(resp)
            generation = None
        raise exc.Conflict(f"{what} of resource provider {uuid}: generation conflict after "
                           f"{self.retries} attempts", code=CONCURRENT_UPDATE)

    # -- allocation candidates and claims --------------------------------------------

    async def allocation_candidates(
        self, resources: dict[str, int], *, required: Iterable[str] = (),
        forbidden: Iterable[str] = (), member_of: Iterable[str] = (),
        in_tree: str | None = None, limit: int | None = None,
    ) -> Candidates:
        """Providers that can take `resources` now. `member_of`: any of these aggregates."""
        params: list[tuple[str, str]] = [
            ("resources", ",".join(f"{rc}:{n}" for rc, n in resources.items()))]
        traits = [*required, *(f"!{t}" for t in forbidden)]
        if traits:
            params.append(("required", ",".join(traits)))
        aggregates = list(member_of)
        if aggregates:
            params.append(("member_of", "in:" + ",".join(aggregates)))
        if in_tree is not None:
            params.append(("in_tree", in_tree))
        if limit is not None:
            params.append(("limit", str(limit)))
        body = (await self._request("GET", "/allocation_candidates", params=params)).json()
        requests = [{rp: dict(a["resources"]) for rp, a in r["allocations"].items()}
                    for r in body["allocation_requests"]]
        return Candidates(requests, body["provider_summaries"])

    async def claim(self, consumer_uuid: str, allocations: Amounts, project_id: str,
                    user_id: str, consumer_generation: int | None = None,
                    consumer_type: str = "INSTANCE") -> bool:
        """Write the consumer's allocations (replacing any it had); False on a conflict."""
        resp = await self._request(
            "PUT", f"/allocations/{consumer_uuid}", ok=(204, 409),
            json=_consumer_body(allocations, project_id, user_id, consumer_generation,
                                consumer_type))
        return resp.status_code == 204

    async def get_allocations(self, consumer_uuid: str) -> ConsumerAllocations:
        body = (await self._request("GET", f"/allocations/{consumer_uuid}")).json()
        return ConsumerAllocations(
            {rp: dict(a["resources"]) for rp, a in body["allocations"].items()},
            body.get("consumer_generation"), body.get("project_id"), body.get("user_id"),
            body.get("consumer_type"))

    async def delete_allocations(self, consumer_uuid: str) -> bool:
        """Release everything the consumer holds; False if it held nothing."""
        resp = await self._request("DELETE", f"/allocations/{consumer_uuid}", ok=(204, 404))
        return resp.status_code == 204

    async def move_allocations(self, source: str, target: str) -> bool:
        """Give `target` what `source` holds and empty `source`, atomically (migrations).
        False on a conflict (either consumer changed meanwhile)."""
        src = await self.get_allocations(source)
        if src.consumer_generation is None:
            return False
        dst = await self.get_allocations(target)
        body = {
            source: _consumer_body({}, src.project_id, src.user_id, src.consumer_generation,
                                   src.consumer_type or "INSTANCE"),
            target: _consumer_body(src.allocations, src.project_id, src.user_id,
                                   dst.consumer_generation, dst.consumer_type or "MIGRATION"),
        }
        resp = await self._request("POST", "/allocations", json=body, ok=(204, 409))
        return resp.status_code == 204

    async def provider_allocations(self, uuid: str) -> dict[str, dict[str, int]]:
        """consumer uuid -> resource class -> amount on this provider."""
        body = (await self._request("GET", f"/resource_providers/{uuid}/allocations")).json()
        return {c: dict(a["resources"]) for c, a in body["allocations"].items()}

    # -- usages ---------------------------------------------------------------------

    async def provider_usages(self, uuid: str) -> dict[str, int]:
        return (await self._request("GET", f"/resource_providers/{uuid}/usages")).json()["usages"]

    async def usages(self, project_id: str, user_id: str | None = None) -> dict[str, int]:
        """Resource class -> amount the project (and user) holds, all consumer types."""
        params = {"project_id": project_id}
        if user_id is not None:
            params["user_id"] = user_id
        body = (await self._request("GET", "/usages", params=params)).json()
        total: dict[str, int] = {}
        for per_type in body["usages"].values():
            for rc, n in per_type.items():
                if rc != "consumer_count":
                    total[rc] = total.get(rc, 0) + n
        return total


def _provider(body: dict) -> Provider:
    return Provider(body["uuid"], body["name"], body["generation"],
                    body.get("parent_provider_uuid"), body.get("root_provider_uuid"))


_INVENTORY_DEFAULTS = {"reserved": 0, "min_unit": 1, "max_unit": 2147483647, "step_size": 1,
                      "allocation_ratio": 1.0}


def _inventory(inv: dict) -> dict:
    """The full record, defaults filled in, so equal inventories compare equal."""
    out = {"total": inv["total"]}
    for key, default in _INVENTORY_DEFAULTS.items():
        out[key] = inv[key] if inv.get(key) is not None else default
    out["allocation_ratio"] = float(out["allocation_ratio"])
    return out


def _consumer_body(allocations: Amounts, project_id: str | None, user_id: str | None,
                   consumer_generation: int | None, consumer_type: str) -> dict:
    return {
        "allocations": {rp: {"resources": res} for rp, res in allocations.items()},
        "project_id": project_id, "user_id": user_id,
        "consumer_generation": consumer_generation, "consumer_type": consumer_type,
    }


def _code(resp: httpx.Response) -> str | None:
    try:
        return resp.json()["errors"][0].get("code")
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def error_of(resp: httpx.Response) -> exc.PocketstackError:
    """The core error for a Placement error response (its detail and code kept)."""
    try:
        err = resp.json()["errors"][0]
        detail, code = err.get("detail"), err.get("code")
    except (ValueError, KeyError, IndexError, TypeError):
        detail, code = resp.text[:200], None
    error = exc.for_status(resp.status_code, f"placement: {detail}")
    if code:
        error.extra["code"] = code
    return error
