"""A compute agent's RPC API (topic `compute.<host>`) and its periodic work:
reporting the host to placement and the conductor (its heartbeat), and
reconciling power states with the driver."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from pocketstack.compute.agent import build, network, volumes
from pocketstack.compute.agent.messages import BuildRequest
from pocketstack.compute.conductor.messages import Bdm, ConductorClient, NetworkRequest
from pocketstack.compute.remote.placement import PlacementAPI, host_inventory, provider_uuid
from pocketstack.compute.scheduler.messages import HostReport
from pocketstack.compute.virt.driver import (
    CanAttachInterface,
    CanAttachVolume,
    CanSnapshot,
    Disk,
    Driver,
    DriverError,
    ImageSource,
    Nic,
    PowerState,
)
from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.core.tracing import Tracer
from pocketstack.image.client import ImageClient
from pocketstack.network.client import NetworkClient
from pocketstack.volume.client import VolumeClient

log = logging.getLogger(__name__)


class ComputeAgent:
    def __init__(self, host: str, driver: Driver, conductor: ConductorClient,
                 images: ImageClient, network: NetworkClient, volumes: VolumeClient,
                 placement: PlacementAPI, tracer: Tracer, ratios: dict[str, float]):
        self.host, self.driver, self.conductor = host, driver, conductor
        self.images, self.network, self.volumes = images, network, volumes
        self.placement, self.tracer, self.ratios = placement, tracer, ratios
        self.provider_id = provider_uuid(host)

    def image_data(self, ctx: RequestContext,
                   image_id: str) -> Callable[[], AsyncIterator[bytes]]:
        return lambda: self.images.data(ctx, image_id)

    def image_source(self, ctx: RequestContext) -> Callable[[str], Awaitable[ImageSource]]:
        """What a driver calls for another image (a kernel or ramdisk an image names)."""
        async def source(image_id: str) -> ImageSource:
            return await self.images.get(ctx, image_id), self.image_data(ctx, image_id)
        return source

    # -- the launch (steps 13-28) -----------------------------------------------------

    async def build_and_run_instance(self, ctxt: RequestContext,
                                     request: BuildRequest) -> None:
        self.tracer.record("compute agent takes the request from its queue", "13",
                           request.sent_at, time.time(), host=self.host)
        try:
            await build.run(build.Build(self, ctxt, request))
        except build.InstanceGone:
            log.info("instance %s was deleted during its build", request.instance_id)
        except Exception as err:  # noqa: BLE001 - the conductor decides what follows
            reason = err.message if isinstance(err, exc.PocketstackError) else repr(err)
            log.info("build of %s on %s failed: %s", request.instance_id, self.host, reason)
            await self.conductor.build_failed(ctxt, request, reason)

    # -- life cycle of a running instance ----------------------------------------------

    async def terminate_instance(self, ctxt: RequestContext, instance_id: str) -> None:
        with self.tracer.span("terminate the instance", host=self.host):
            info = await self.conductor.get_instance(ctxt, instance_id)
            await self.driver.destroy(instance_id)
            await network.release(self.network, ctxt, info.network_info)
            await volumes.detach_all(self.volumes, ctxt, info.bdms)
            await self.conductor.instance_destroyed(ctxt, instance_id)

    async def reboot_instance(self, ctxt: RequestContext, instance_id: str, hard: bool) -> None:
        await self._power(ctxt, instance_id, "compute_reboot_instance",
                          lambda: self.driver.reboot(instance_id, hard), "active")

    async def stop_instance(self, ctxt: RequestContext, instance_id: str) -> None:
        await self._power(ctxt, instance_id, "compute_stop_instance",
                          lambda: self.driver.power_off(instance_id), "stopped")

    async def start_instance(self, ctxt: RequestContext, instance_id: str) -> None:
        await self._power(ctxt, instance_id, "compute_start_instance",
                          lambda: self.driver.power_on(instance_id), "active")

    async def snapshot_instance(self, ctxt: RequestContext, instance_id: str,
                                image_id: str) -> None:
        """The root disk into the queued image the API made (deleted if this fails)."""

        async def take() -> None:
            if not isinstance(self.driver, CanSnapshot):
                raise DriverError("The hypervisor of this host cannot snapshot servers.")
            try:
                image = await self.images.get(ctxt, image_id)
                fmt = self.driver.snapshot_format
                if image.get("disk_format") != fmt or image.get("container_format") != "bare":
                    await self.images.set_formats(ctxt, image_id, fmt, "bare")
                await self.driver.snapshot(
                    instance_id, lambda data: self.images.upload(ctxt, image_id, data))
            except BaseException:
                with contextlib.suppress(Exception):
                    await self.images.delete(ctxt, image_id)
                raise
        with self.tracer.span("snapshot the instance", host=self.host, image=image_id):
            await self._power(ctxt, instance_id, "compute_snapshot_instance", take, None)

    async def _power(self, ctxt: RequestContext, instance_id: str, event: str,
                     action: Callable[[], Awaitable[None]], vm_state: str | None) -> None:
        """Run an action on the guest, then record its outcome and the power state
        (and vm_state, when the action changes it)."""
        try:
            await action()
        except Exception as err:  # noqa: BLE001 - reported as the action's error
            state = await self.driver.power_state(instance_id)
            await self.conductor.instance_update(
                ctxt, instance_id, {"task_state": None, "power_state": int(state)},
                event=event, ok=False, message=str(err))
            return
        state = await self.driver.power_state(instance_id)
        values = {"task_state": None, "power_state": int(state)}
        if vm_state:
            values["vm_state"] = vm_state
        await self.conductor.instance_update(ctxt, instance_id, values, event=event)

    async def get_console_output(self, ctxt: RequestContext, instance_id: str) -> str:
        return await self.driver.console_output(instance_id)

    # -- volumes and interfaces of a running instance ------------------------------------

    async def attach_volume(self, ctxt: RequestContext, instance_id: str, volume_id: str,
                            device: str, bdm_id: str, delete_on_termination: bool,
                            tag: str | None) -> dict[str, Any]:
        if not isinstance(self.driver, CanAttachVolume):
            raise exc.Conflict("The hypervisor of this host cannot attach volumes.")
        info = await self.conductor.get_instance(ctxt, instance_id)
        bdm = Bdm(id=bdm_id, source_type="volume", destination_type="volume",
                  volume_id=volume_id, device_name=device,
                  delete_on_termination=delete_on_termination, tag=tag)
        bdm, connection = await volumes.attach(self.volumes, ctxt, info, self.host, bdm)
        try:
            await self.driver.attach_volume(instance_id, Disk(volume_id, device, connection))
        except BaseException:
            await volumes.detach_all(self.volumes, ctxt, [bdm])
            raise
        await self.conductor.save_bdm(ctxt, instance_id, bdm)
        return bdm.model_dump()

    async def detach_volume(self, ctxt: RequestContext, instance_id: str,
                            volume_id: str) -> None:
        info = await self.conductor.get_instance(ctxt, instance_id)
        bdm = next((b for b in info.bdms if b.volume_id == volume_id), None)
        if bdm is None:
            raise exc.NotFound(f"Volume {volume_id} is not attached to {instance_id}.")
        if isinstance(self.driver, CanAttachVolume):
            await self.driver.detach_volume(instance_id, volume_id)
        if bdm.attachment_id:
            await self.volumes.delete_attachment(ctxt, bdm.attachment_id)
        await self.conductor.delete_bdm(ctxt, bdm.id)

    async def attach_interface(self, ctxt: RequestContext, instance_id: str,
                               network_id: str | None, port_id: str | None,
                               fixed_ip: str | None) -> dict[str, Any]:
        if not isinstance(self.driver, CanAttachInterface):
            raise exc.Conflict("The hypervisor of this host cannot attach interfaces.")
        info = await self.conductor.get_instance(ctxt, instance_id)
        req = NetworkRequest(network_id=network_id, port_id=port_id, fixed_ip=fixed_ip)
        vif = await network.allocate_one(self.network, ctxt, req, instance_id,
                                         self.host, info.project_id, [])
        try:
            await self.driver.attach_interface(instance_id, Nic(
                vif.port_id, vif.mac, vif.network_id, [ip["address"] for ip in vif.ips]))
        except BaseException:
            await network.release(self.network, ctxt, [vif])
            raise
        await self.conductor.save_interfaces(ctxt, instance_id, [*info.network_info, vif])
        return vif.model_dump()

    async def detach_interface(self, ctxt: RequestContext, instance_id: str,
                               port_id: str) -> None:
        info = await self.conductor.get_instance(ctxt, instance_id)
        vif = next((v for v in info.network_info if v.port_id == port_id), None)
        if vif is None:
            raise exc.NotFound(f"Port {port_id} is not attached to {instance_id}.")
        if isinstance(self.driver, CanAttachInterface):
            await self.driver.detach_interface(instance_id, port_id)
        await network.release(self.network, ctxt, [vif])
        await self.conductor.save_interfaces(
            ctxt, instance_id, [v for v in info.network_info if v.port_id != port_id])

    # -- periodic work (not RPC: names start with _) --------------------------------------

    async def _report(self) -> HostReport:
        r = await self.driver.resources()
        return HostReport(host=self.host, node=self.host, provider_id=self.provider_id,
                          vcpus=r.vcpus, memory_mb=r.memory_mb, disk_gb=r.disk_gb,
                          hypervisor_type=r.hypervisor_type,
                          hypervisor_version=r.hypervisor_version, cpu_arch=r.cpu_arch,
                          host_ip=r.host_ip)

    async def _report_to_placement(self, report: HostReport) -> None:
        await self.placement.ensure_provider(self.host, self.provider_id)
        await self.placement.set_inventory(self.provider_id,
                                           host_inventory(report, self.ratios))

    async def _heartbeat(self, ctxt: RequestContext) -> None:
        await self.conductor.report_host(ctxt, await self._report())

    async def _sync_power_states(self, ctxt: RequestContext) -> None:
        guests = await self.driver.list_guests()
        await self.conductor.sync_power_states(ctxt, self.host,
                                               {i: int(s) for i, s in guests.items()})

    async def _start(self) -> None:
        """Tell placement and the conductor (so the scheduler) what this host offers."""
        report = await self._report()
        await self._report_to_placement(report)
        await self.conductor.report_host(RequestContext.admin(), report)


__all__ = ["ComputeAgent", "DriverError", "PowerState"]
