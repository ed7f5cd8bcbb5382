"""The compute API's domain logic: creating servers (steps 6-8), finding them,
deleting them, and handing actions to their compute agent."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.responses import JSONResponse

from pocketstack.compute import cleanup, quotas
from pocketstack.compute.agent.messages import ComputeClient
from pocketstack.compute.api import schemas
from pocketstack.compute.flavors import Flavors, as_dict
from pocketstack.compute.keypairs import KeyPairs
from pocketstack.compute.models import (
    BlockDeviceMapping,
    Instance,
    InstanceAction,
    ServerGroup,
)
from pocketstack.compute.quotas import Quotas
from pocketstack.compute.remote.placement import PlacementAPI
from pocketstack.compute.scheduler.messages import (
    FlavorSpec,
    GroupSpec,
    RequestSpec,
    SchedulerClient,
)
from pocketstack.compute.store import Store
from pocketstack.config import ComputeConfig
from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.core.policy import Enforcer
from pocketstack.core.rpc import RPC
from pocketstack.core.tracing import Tracer
from pocketstack.image.client import ImageClient
from pocketstack.network.client import NetworkClient
from pocketstack.volume.client import VolumeClient

UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                  r"[0-9a-fA-F]{12}$")


def hostname_of(name: str) -> str:
    """Nova's sanitised hostname of a display name."""
    host = re.sub(r"[^\w.-]+", "-", name.lower().replace("_", "-")).strip(".-")
    return host[:63] or "server"


class ComputeAPI:
    def __init__(self, store: Store, policy: Enforcer, rpc: RPC, tracer: Tracer,
                 settings: ComputeConfig, images: ImageClient, network: NetworkClient,
                 volumes: VolumeClient, placement: PlacementAPI,
                 service_up: Callable[[str], Awaitable[bool]]):
        db = store.db
        self.db, self.store, self.policy = db, store, policy
        self.flavors, self.keypairs, self.quotas = Flavors(db), KeyPairs(db), Quotas(db)
        self.scheduler, self.compute = SchedulerClient(rpc), ComputeClient(rpc)
        self.tracer, self.settings = tracer, settings
        self.images, self.network, self.volumes = images, network, volumes
        self.placement, self.service_up = placement, service_up

    @staticmethod
    def json(body: Any, status: int = 200) -> JSONResponse:
        return JSONResponse(body, status_code=status)

    # -- create (steps 6-8) --------------------------------------------------------

    async def create(self, ctx: RequestContext, req: schemas.CreateRequest,
                     at_least: Callable[[str], bool]) -> tuple[list[Instance], str]:
        with self.tracer.span("check policy, input and quota; create the instance record",
                              "6-7"):
            instances, reservation, spec = await self._create(ctx, req, at_least)
        with self.tracer.span("ask the scheduler over RPC", "8"):
            await self.scheduler.schedule_and_build(ctx, [i.id for i in instances], spec)
        return instances, reservation

    async def _create(self, ctx: RequestContext, req: schemas.CreateRequest,
                      at_least: Callable[[str], bool],
                      ) -> tuple[list[Instance], str, RequestSpec]:
        s = req.server
        self.policy.enforce(ctx, "os_compute_api:servers:create")
        flavor = await self._flavor(ctx, s.flavorRef)
        bdms, boot_image = self._block_devices(s)
        image = await self._image(ctx, s.imageRef or boot_image, flavor,
                                  boot_from_volume=bool(bdms and not s.imageRef))
        count = s.max_count or s.min_count
        if s.min_count > count:
            raise exc.BadRequest("min_count must be <= max_count")
        networks = await self._networks(ctx, s.networks, count, at_least)
        key = await self._key(ctx, s.key_name)
        group = await self._group(ctx, req.scheduler_hints.get("group"))
        zone, force_host = self._zone(ctx, s.availability_zone)
        if zone and zone not in await self._zones():
            raise exc.BadRequest("The requested availability zone is not available")
        force_host = force_host or s.host
        if force_host and not ctx.is_admin:
            raise exc.Forbidden("Policy doesn't allow os_compute_api:servers:create:"
                                "forced_host to be performed.")
        sg_ids = await self.network.security_group_ids(
            ctx, [g.name for g in s.security_groups]) if s.security_groups else []
        await self._volumes_exist(ctx, bdms)
        instances, reservation = await self._insert(
            ctx, s, count, flavor, image, networks, key, group, zone, bdms, req.scheduler_hints,
            sg_ids)
        spec = RequestSpec(
            project_id=ctx.project_id, user_id=ctx.user_id,
            flavor=FlavorSpec.model_validate(instances[0].flavor),
            image={k: v for k, v in image.items() if isinstance(v, str | int | float)},
            availability_zone=zone, hints=req.scheduler_hints,
            boot_from_volume=not s.imageRef and bool(bdms), force_host=force_host,
            group=GroupSpec(id=group.id, policy=group.policy, rules=group.rules or {},
                            members=[*group.members, *(i.id for i in instances)])
            if group else None)
        return instances, reservation, spec

    async def _flavor(self, ctx: RequestContext, ref: str | int) -> dict[str, Any]:
        flavor_id = str(ref).rstrip("/").rsplit("/", 1)[-1]
        try:
            return as_dict(await self.flavors.get(ctx, flavor_id))
        except exc.NotFound:
            raise exc.BadRequest(f"Flavor {flavor_id} could not be found.") from None

    def _block_devices(self, s: schemas.ServerCreate) -> tuple[list[dict], str]:
        """The volume mappings to make, and the image a boot volume comes from."""
        out, boot_image = [], ""
        for i, b in enumerate(s.block_device_mapping_v2 or []):
            if b.source_type is None or (b.destination_type or "local") == "local":
                if b.source_type == "image" and b.boot_index == 0:
                    boot_image = b.uuid or ""
                continue
            if b.source_type in ("volume", "image", "snapshot") and not b.uuid:
                raise exc.BadRequest("Block device mapping is invalid: uuid is required.")
            if b.source_type in ("image", "blank") and not b.volume_size:
                raise exc.BadRequest("Block device mapping is invalid: volume_size is "
                                     "required to create a volume.")
            if b.boot_index == 0 and b.source_type == "image":
                boot_image = b.uuid
            out.append({
                "id": str(uuid.uuid4()), "source_type": b.source_type,
                "destination_type": "volume", "boot_index": b.boot_index,
                "volume_id": b.uuid if b.source_type == "volume" else None,
                "image_id": b.uuid if b.source_type == "image" else None,
                "volume_size": b.volume_size, "tag": b.tag,
                "device_name": b.device_name or f"/dev/vd{chr(ord('a') + i)}",
                "delete_on_termination": bool(b.delete_on_termination)})
        if not s.imageRef and not any(b["boot_index"] == 0 for b in out):
            raise exc.BadRequest("Block Device Mapping is Invalid: Boot sequence for the "
                                 "instance and image/block device mapping combination is "
                                 "not valid." if out else "Missing imageRef attribute")
        return out, boot_image

    async def _image(self, ctx: RequestContext, image_ref: str, flavor: dict,
                     boot_from_volume: bool) -> dict[str, Any]:
        if not image_ref:
            return {}
        image_id = image_ref.rstrip("/").rsplit("/", 1)[-1]
        try:
            image = await self.images.get(ctx, image_id)
        except exc.NotFound:
            raise exc.BadRequest(f"Image {image_id} could not be found.") from None
        if image.get("status") not in (None, "active"):
            raise exc.BadRequest(f"Image {image_id} is not active.")
        if flavor["ram"] < int(image.get("min_ram") or 0):
            raise exc.BadRequest("Flavor's memory is too small for requested image.")
        size_gb = (int(image.get("size") or 0) + (1 << 30) - 1) >> 30
        needed = max(size_gb, int(image.get("min_disk") or 0))
        if not boot_from_volume and flavor["disk"] and needed > flavor["disk"]:
            raise exc.BadRequest("Flavor's disk is too small for requested image.")
        return image

    async def _networks(self, ctx: RequestContext, networks: Any, count: int,
                        at_least: Callable[[str], bool]) -> list[dict] | str:
        if networks is None and at_least("2.37"):
            raise exc.BadRequest("Invalid input for field/attribute networks: 'networks' "
                                 "is a required property")
        if networks == "none":
            return []
        if networks in (None, "auto"):
            net = await self._auto_network(ctx)
            return [{"network_id": net["id"], "network_name": net["name"],
                     "mtu": net.get("mtu")}]
        out = []
        for n in networks:
            if n.port:
                if count > 1:
                    raise exc.BadRequest("Unable to launch multiple instances with a single "
                                         "configured port ID. Please launch your instance "
                                         "one by one with different ports.")
                port = await self._port(ctx, n.port)
                net = await self._network(ctx, port["network_id"])
                out.append({"port_id": port["id"], "network_id": net["id"],
                            "network_name": net["name"], "mtu": net.get("mtu")})
            elif n.uuid:
                net = await self._network(ctx, n.uuid)
                out.append({"network_id": net["id"], "fixed_ip": n.fixed_ip, "tag": n.tag,
                            "network_name": net["name"], "mtu": net.get("mtu")})
            else:
                raise exc.BadRequest("Bad networks format: a network needs a uuid or a port.")
        return out

    async def _network(self, ctx: RequestContext, network_id: str) -> dict[str, Any]:
        try:
            return await self.network.get_network(ctx, network_id)
        except exc.NotFound:
            raise exc.BadRequest(f"Network {network_id} could not be found.") from None

    async def _port(self, ctx: RequestContext, port_id: str) -> dict[str, Any]:
        try:
            port = await self.network.get_port(ctx, port_id)
        except exc.NotFound:
            raise exc.BadRequest(f"Port {port_id} could not be found.") from None
        if port.get("device_id"):
            raise exc.Conflict(f"Port {port_id} is still in use.")
        return port

    async def _auto_network(self, ctx: RequestContext) -> dict[str, Any]:
        nets = [n for n in await self.network.list_networks(ctx)
                if not n.get("router:external")]
        mine = [n for n in nets if n.get("project_id") == ctx.project_id] or nets
        if not mine:
            raise exc.Conflict("Unable to automatically allocate a network for project "
                               f"{ctx.project_id}")
        if len(mine) > 1:
            raise exc.Conflict("Multiple possible networks found, use a Network ID to be "
                               "more specific.")
        return mine[0]

    async def _key(self, ctx: RequestContext, key_name: str | None) -> Any:
        if key_name is None:
            return None
        try:
            return await self.keypairs.get(ctx.user_id, key_name)
        except exc.NotFound:
            raise exc.BadRequest("Invalid key_name provided.") from None

    async def _group(self, ctx: RequestContext, group_id: Any) -> ServerGroup | None:
        if group_id is None:
            return None
        if not isinstance(group_id, str) or not UUID.match(group_id):
            raise exc.BadRequest(f"Invalid input for field/attribute group. Value: {group_id}")
        async with self.db.read() as s:
            group = await s.get(ServerGroup, group_id)
        if group is None or (group.project_id != ctx.project_id and not ctx.is_admin):
            raise exc.BadRequest(f"Server group {group_id} could not be found.")
        return group

    async def _zones(self) -> set[str]:
        aggregates = await self.store.aggregates()
        return {self.settings.default_availability_zone} | {
            a.availability_zone for a in aggregates if a.availability_zone}

    def _zone(self, ctx: RequestContext, zone: str | None) -> tuple[str | None, str | None]:
        if not zone:
            return None, None
        name, _, host = zone.partition(":")
        return name or None, host.split(":")[0] or None

    async def _volumes_exist(self, ctx: RequestContext, bdms: list[dict]) -> None:
        for b in bdms:
            if b["volume_id"]:
                try:
                    vol = await self.volumes.get_volume(ctx, b["volume_id"])
                except exc.NotFound:
                    raise exc.BadRequest(f"Volume {b['volume_id']} could not be found.") \
                        from None
                if vol.get("status") != "available":
                    raise exc.BadRequest(f"Invalid volume: volume {b['volume_id']} status "
                                         f"must be available, but it is {vol.get('status')}")

    async def _insert(self, ctx: RequestContext, s: schemas.ServerCreate, count: int,
                      flavor: dict, image: dict, networks: list[dict] | str, key: Any,
                      group: ServerGroup | None, zone: str | None, bdms: list[dict],
                      hints: dict[str, Any], sg_ids: list[str]) -> tuple[list[Instance], str]:
        reservation = "r-" + secrets.token_hex(4)
        props = {k: str(v) for k, v in image.items() if k not in ("locations", "tags")
                 and isinstance(v, str | int | float)}
        instances = []
        async with self.db.write() as session:
            await quotas.check_instances(session, ctx.project_id, count, flavor)
            if group is not None:
                group = await session.get(ServerGroup, group.id)
                group.members = [*group.members]
            for index in range(count):
                name = s.name if count == 1 else f"{s.name}-{index + 1}"
                inst = Instance(
                    id=str(uuid.uuid4()), project_id=ctx.project_id, user_id=ctx.user_id,
                    name=name, description=s.description,
                    hostname=hostname_of(s.hostname or name), vm_state="building",
                    task_state="scheduling", power_state=0, availability_zone=zone,
                    flavor_id=flavor["id"], flavor=flavor,
                    image_ref=image.get("id", "") if s.imageRef else "",
                    key_name=key.name if key else None, key_data=key.public_key if key else None,
                    user_data=s.user_data, config_drive="True" if s.config_drive else "",
                    metadata_=s.metadata, system_metadata=props, network_info=[],
                    request_spec={"networks": networks, "hints": hints,
                                  "availability_zone": zone, "bfv": not s.imageRef,
                                  "flavor": flavor, "project_id": ctx.project_id,
                                  "user_id": ctx.user_id, "security_group_ids": sg_ids},
                    security_groups=[g.name for g in s.security_groups or []],
                    vcpus=flavor["vcpus"], memory_mb=flavor["ram"],
                    reservation_id=reservation, launch_index=index,
                    access_ip_v4=s.accessIPv4, access_ip_v6=s.accessIPv6)
                session.add(inst)
                session.add(InstanceAction(instance_id=inst.id, action="create",
                                           request_id=ctx.request_id,
                                           project_id=ctx.project_id, user_id=ctx.user_id))
                for b in bdms:
                    session.add(BlockDeviceMapping(instance_id=inst.id,
                                                   **{**b, "id": str(uuid.uuid4())}))
                if group is not None:
                    group.members = [*group.members, inst.id]
                instances.append(inst)
        return instances, reservation

    # -- find -------------------------------------------------------------------------

    async def get(self, ctx: RequestContext, server_id: str, action: str) -> Instance:
        try:
            inst = await self.store.instance(server_id)
        except exc.NotFound:
            raise exc.NotFound(f"Instance {server_id} could not be found.") from None
        if inst.project_id != ctx.project_id and not ctx.is_admin:
            raise exc.NotFound(f"Instance {server_id} could not be found.")
        self.policy.enforce(ctx, action, {"project_id": inst.project_id,
                                          "user_id": inst.user_id})
        return inst

    # -- delete ---------------------------------------------------------------------------

    async def delete(self, ctx: RequestContext, inst: Instance) -> None:
        with self.tracer.span("delete the server", instance=inst.id):
            agent_up = bool(inst.host) and await self.service_up(inst.host)
            await self.store.start_action(inst.id, "delete", ctx.request_id, ctx.project_id,
                                          ctx.user_id,
                                          {"task_state": "deleting"} if agent_up else None)
            if agent_up:
                await self.compute.prepare(server=inst.host).terminate_instance(ctx, inst.id)
                return
            await self.local_delete(ctx, inst)

    async def local_delete(self, ctx: RequestContext, inst: Instance) -> None:
        """No agent can do it: release what the instance holds from here."""
        await self.store.mark_deleted(inst.id)
        bdms = await self.store.bdms(inst.id)
        await cleanup.release_all(inst, bdms, ctx, self.network, self.volumes,
                                  self.placement, deleting=True)
        await self.scheduler.instance_removed(ctx, inst.id)

    # -- actions handed to the agent --------------------------------------------------------

    async def on_host(self, ctx: RequestContext, inst: Instance, action: str,
                      task_state: str | None, call: Callable[[ComputeClient], Awaitable[Any]],
                      allowed_states: tuple[str, ...]) -> Any:
        """Start an action (recorded in os-instance-actions) on the instance's agent."""
        if inst.vm_state not in allowed_states or (task_state and inst.task_state):
            raise exc.Conflict(f"Cannot '{action}' instance {inst.id} while it is in "
                               f"vm_state {inst.vm_state}"
                               + (f" task_state {inst.task_state}" if inst.task_state else ""))
        if not inst.host:
            raise exc.Conflict(f"Instance {inst.id} is not on a host.")
        await self.store.start_action(inst.id, action, ctx.request_id, ctx.project_id,
                                      ctx.user_id,
                                      {"task_state": task_state} if task_state else None)
        with self.tracer.span(f"{action} on compute.{inst.host}", instance=inst.id):
            return await call(self.compute.prepare(server=inst.host))
