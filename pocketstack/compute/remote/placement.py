"""The placement service, as compute uses it: the agents' resource providers and
inventories, and claims (an allocation per instance, written with the
consumer generation so that a concurrent writer makes the claim fail)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from pocketstack.compute.remote.rest import RestClient
from pocketstack.core import exceptions as exc

Resources = dict[str, int]  # {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}
Inventory = dict[str, dict[str, Any]]  # {"VCPU": {"total": 16, "allocation_ratio": 16.0...}}
RESHAPE_CHUNK = 2000  # providers per POST /reshaper when many hosts register at once


def provider_uuid(host: str) -> str:
    """A host's resource provider id: stable across restarts."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"compute-node.{host}.pocketstack"))


def host_inventory(report: Any, ratios: dict[str, float]) -> Inventory:
    """A compute host's inventory from its HostReport and the allocation ratios."""
    return {rc: {"total": total, "reserved": 0, "min_unit": 1, "max_unit": total,
                 "step_size": 1, "allocation_ratio": ratios[rc]}
            for rc, total in (("VCPU", report.vcpus), ("MEMORY_MB", report.memory_mb),
                              ("DISK_GB", report.disk_gb))}


class PlacementAPI(Protocol):
    async def ensure_provider(self, name: str, rp_uuid: str) -> None: ...

    async def register_hosts(self, hosts: dict[str, tuple[str, Inventory]]) -> None:
        """Many hosts' providers (uuid -> (name, inventory)) created if missing and
        their inventories set: what one process of many fake hosts reports."""
        ...

    async def set_inventory(self, rp_uuid: str, inventory: dict[str, dict[str, Any]]) -> None:
        ...

    async def claim(self, consumer: str, rp_uuid: str, resources: Resources,
                    project_id: str, user_id: str, replace: bool = False) -> bool:
        """Allocate `resources` on the provider for `consumer`, replacing what it had;
        False when the provider lacks capacity or another writer won the race."""
        ...

    async def release(self, consumer: str) -> None:
        """Delete the consumer's allocations (no error when it has none)."""
        ...

    async def allocations(self, consumer: str) -> dict[str, Resources]: ...


TokenSource = Callable[[], Awaitable[str]]


class RestPlacementAPI(RestClient):
    def __init__(self, http, base_url: str, token: TokenSource):  # noqa: ANN001
        super().__init__(http, base_url, {"OpenStack-API-Version": "placement 1.28"})
        self.token = token
        self._claims = ClaimBatcher(self._post_claims, self._put_claim)

    async def _req(self, method: str, path: str, **kw: Any) -> Any:
        return await self.request(await self.token(), method, path, **kw)

    async def ensure_provider(self, name: str, rp_uuid: str) -> None:
        try:
            await self._req("GET", f"/resource_providers/{rp_uuid}")
        except exc.NotFound:
            try:
                await self._req("POST", "/resource_providers",
                                json={"name": name, "uuid": rp_uuid})
            except exc.Conflict:
                pass  # created meanwhile

    async def set_inventory(self, rp_uuid: str, inventory: dict[str, dict[str, Any]]) -> None:
        for _ in range(3):
            rp = await self._req("GET", f"/resource_providers/{rp_uuid}")
            try:
                await self._req("PUT", f"/resource_providers/{rp_uuid}/inventories", json={
                    "resource_provider_generation": rp["generation"],
                    "inventories": inventory})
                return
            except exc.Conflict:
                continue

    async def register_hosts(self, hosts: dict[str, tuple[str, Inventory]]) -> None:
        """One listing, a POST for each missing provider (a few at a time), then the
        inventories in POST /reshaper requests of RESHAPE_CHUNK providers each (an
        unchanged inventory is no write); a concurrent writer means one more round."""
        created = asyncio.Semaphore(4)

        async def create(rp_uuid: str, name: str) -> None:
            async with created:
                with contextlib.suppress(exc.Conflict):  # created meanwhile
                    await self._req("POST", "/resource_providers",
                                    json={"name": name, "uuid": rp_uuid})

        for _ in range(3):
            listed = (await self._req("GET", "/resource_providers"))["resource_providers"]
            generations = {p["uuid"]: p["generation"] for p in listed}
            missing = [(u, name) for u, (name, _) in hosts.items() if u not in generations]
            if missing:
                await asyncio.gather(*(create(u, name) for u, name in missing))
                continue
            try:
                await self._reshape(hosts, generations)
                return
            except exc.Conflict:
                continue
        raise exc.Conflict("Placement kept changing while the hosts registered.")

    async def _reshape(self, hosts: dict[str, tuple[str, Inventory]],
                       generations: dict[str, int]) -> None:
        uuids = list(hosts)
        for i in range(0, len(uuids), RESHAPE_CHUNK):
            await self._req("POST", "/reshaper", headers={
                "OpenStack-API-Version": "placement 1.30"}, json={"inventories": {
                    u: {"resource_provider_generation": generations[u],
                        "inventories": hosts[u][1]} for u in uuids[i:i + RESHAPE_CHUNK]},
                    "allocations": {}})

    async def claim(self, consumer: str, rp_uuid: str, resources: Resources,
                    project_id: str, user_id: str, replace: bool = False) -> bool:
        generation = None  # a new consumer
        if replace:
            current = await self._req("GET", f"/allocations/{consumer}")
            generation = current.get("consumer_generation")
        body = {"allocations": {rp_uuid: {"resources": resources}},
                "project_id": project_id, "user_id": user_id,
                "consumer_generation": generation}
        if replace:
            return await self._put_claim(consumer, body)
        return await self._claims.claim(consumer, body)

    async def _put_claim(self, consumer: str, body: dict[str, Any]) -> bool:
        try:
            await self._req("PUT", f"/allocations/{consumer}", json=body)
        except exc.Conflict:
            return False
        return True

    async def _post_claims(self, bodies: dict[str, dict[str, Any]]) -> bool:
        try:
            await self._req("POST", "/allocations", json=bodies)
        except exc.Conflict:
            return False
        return True

    async def release(self, consumer: str) -> None:
        try:
            await self._req("DELETE", f"/allocations/{consumer}")
        except exc.NotFound:
            pass

    async def allocations(self, consumer: str) -> dict[str, Resources]:
        body = await self._req("GET", f"/allocations/{consumer}")
        return {rp: a["resources"] for rp, a in (body.get("allocations") or {}).items()}


class ClaimBatcher:
    """Claims of new consumers that arrive while others are on their way go
    together in one POST /allocations: one request and one transaction for many
    (a group commit). POST /allocations is all or nothing, so a refused (or
    failed) batch is retried claim by claim: a refusal stays the refused claim's own."""

    MAX = 50  # consumers per POST

    def __init__(self, post: Callable[[dict[str, dict]], Awaitable[bool]],
                 put: Callable[[str, dict], Awaitable[bool]]):
        self.post, self.put = post, put
        self.pending: list[tuple[str, dict, asyncio.Future[bool]]] = []
        self.sending = False
        self._task: asyncio.Task[None] | None = None

    async def claim(self, consumer: str, body: dict[str, Any]) -> bool:
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.pending.append((consumer, body, done))
        if not self.sending:
            self.sending = True
            self._task = asyncio.create_task(self._send())
        return await done

    async def _send(self) -> None:
        try:
            while self.pending:
                batch, self.pending = self.pending[:self.MAX], self.pending[self.MAX:]
                for (*_, done), result in zip(batch, await self._one_batch(batch),
                                              strict=True):
                    if done.done():
                        continue
                    if isinstance(result, BaseException):
                        done.set_exception(result)
                    else:
                        done.set_result(result)
        finally:
            self.sending = False

    async def _one_batch(self, batch: list[tuple[str, dict, asyncio.Future[bool]]],
                         ) -> list[bool | BaseException]:
        if len(batch) > 1:
            try:
                if await self.post({c: b for c, b, _ in batch}):
                    return [True] * len(batch)
            except Exception:  # noqa: BLE001 - one bad claim: each gets its own answer
                pass
        results: list[bool | BaseException] = []
        for consumer, body, _ in batch:
            try:
                results.append(await self.put(consumer, body))
            except Exception as err:  # noqa: BLE001 - that claimer's error
                results.append(err)
        return results


class FakePlacement:
    """Placement's claim semantics in memory: capacity = (total - reserved) * ratio."""

    def __init__(self) -> None:
        self.inventories: dict[str, dict[str, dict[str, Any]]] = {}
        self.names: dict[str, str] = {}
        self.allocs: dict[str, tuple[str, Resources]] = {}

    async def ensure_provider(self, name: str, rp_uuid: str) -> None:
        self.names[rp_uuid] = name
        self.inventories.setdefault(rp_uuid, {})

    async def set_inventory(self, rp_uuid: str, inventory: dict[str, dict[str, Any]]) -> None:
        self.inventories[rp_uuid] = inventory

    async def register_hosts(self, hosts: dict[str, tuple[str, Inventory]]) -> None:
        for rp_uuid, (name, inventory) in hosts.items():
            await self.ensure_provider(name, rp_uuid)
            await self.set_inventory(rp_uuid, inventory)

    def used(self, rp_uuid: str, rc: str, but: str | None = None) -> int:
        return sum(r.get(rc, 0) for c, (rp, r) in self.allocs.items()
                   if rp == rp_uuid and c != but)

    async def claim(self, consumer: str, rp_uuid: str, resources: Resources,
                    project_id: str, user_id: str, replace: bool = False) -> bool:
        if consumer in self.allocs and not replace:
            return False  # placement: the consumer's generation changed
        inv = self.inventories.get(rp_uuid)
        if inv is None:
            return False
        for rc, amount in resources.items():
            i = inv.get(rc)
            if i is None:
                return False
            capacity = (i["total"] - i.get("reserved", 0)) * i.get("allocation_ratio", 1.0)
            if self.used(rp_uuid, rc, but=consumer) + amount > capacity:
                return False
        self.allocs[consumer] = (rp_uuid, dict(resources))
        return True

    async def release(self, consumer: str) -> None:
        self.allocs.pop(consumer, None)

    async def allocations(self, consumer: str) -> dict[str, Resources]:
        found = self.allocs.get(consumer)
        return {found[0]: dict(found[1])} if found else {}
