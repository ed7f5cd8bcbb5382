"""One build on a compute agent, read as the launch table (steps 14-28).

Each step is a small function of the Build; a step that made something has
a named undo. When a step fails, the undos of the steps done run in reverse
and the conductor is told (it reschedules or sets ERROR); when the instance
was deleted meanwhile, the undos run and nobody is told.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pocketstack.compute.agent import network, volumes
from pocketstack.compute.agent.messages import BuildRequest
from pocketstack.compute.conductor.messages import Bdm, InstanceInfo, Vif
from pocketstack.compute.virt.driver import Disk, GuestSpec, Nic, PowerState
from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext

if TYPE_CHECKING:
    from pocketstack.compute.agent.manager import ComputeAgent

log = logging.getLogger(__name__)


class InstanceGone(Exception):
    """The instance was deleted while it was being built."""


@dataclass
class Build:
    agent: ComputeAgent
    ctx: RequestContext  # the user's: their token reaches image, network and volume
    request: BuildRequest
    instance: InstanceInfo | None = None
    image: dict[str, Any] = field(default_factory=dict)
    vifs: list[Vif] = field(default_factory=list)
    bdms: list[Bdm] = field(default_factory=list)
    disks: list[Disk] = field(default_factory=list)


async def get_instance(b: Build) -> None:
    try:
        b.instance = await b.agent.conductor.get_instance(b.ctx, b.request.instance_id)
    except exc.NotFound:
        raise InstanceGone(b.request.instance_id) from None
    if b.instance.vm_state != "building":
        raise InstanceGone(b.instance.id)


async def fetch_image(b: Build) -> None:
    """The image's metadata as the API read it when the server was created (the
    request spec carries it, as Nova's instance system metadata does); the image
    service only when the spec lacks it. Its data comes with the spawn."""
    if not b.instance.image_ref:
        return
    known = b.request.spec.image
    if known.get("id") == b.instance.image_ref:
        b.image = dict(known)
    else:
        b.image = await b.agent.images.get(b.ctx, b.instance.image_ref)


async def allocate_network(b: Build) -> None:
    requests = b.instance.requested_networks
    b.vifs = await network.allocate(
        b.agent.network, b.ctx, requests if isinstance(requests, list) else [],
        b.instance.id, b.agent.host, b.instance.project_id, b.instance.security_group_ids)


async def release_network(b: Build) -> None:
    await network.release(b.agent.network, b.ctx, b.vifs)


async def attach_volumes(b: Build) -> None:
    b.bdms, b.disks = await volumes.attach_all(b.agent.volumes, b.ctx, b.instance,
                                               b.agent.host)
    # One record of the ports and volumes, as the instance starts spawning.
    await progress(b, "spawning", network_info=b.vifs, bdms=b.bdms)


async def detach_volumes(b: Build) -> None:
    await volumes.detach_all(b.agent.volumes, b.ctx, b.bdms, made_only=True)


async def spawn(b: Build) -> None:
    await b.agent.driver.spawn(guest_spec(b))


async def destroy_guest(b: Build) -> None:
    await b.agent.driver.destroy(b.instance.id)


async def report_active(b: Build) -> None:
    state = await b.agent.driver.power_state(b.instance.id)
    if not await b.agent.conductor.build_succeeded(b.ctx, b.request, int(state)):
        raise InstanceGone(b.instance.id)


@dataclass(frozen=True)
class Step:
    number: str
    what: str
    do: Callable[[Build], Awaitable[None]]
    undo: Callable[[Build], Awaitable[None]] | None = None


STEPS = (
    Step("14-18", "get the instance from the conductor", get_instance),
    Step("19-21", "image metadata (data from the image service at spawn)", fetch_image),
    Step("22-24", "ports and IPs from the network service", allocate_network, release_network),
    Step("25-27", "volume attachments from the volume service", attach_volumes,
         detach_volumes),
    Step("28", "the hypervisor builds and starts the guest", spawn, destroy_guest),
    Step("28", "report ACTIVE through the conductor", report_active),
)


async def run(b: Build) -> None:
    """Run the steps; on a failure undo what was done, then re-raise."""
    done: list[Step] = []
    try:
        for step in STEPS:
            with b.agent.tracer.span(step.what, step.number, host=b.agent.host,
                                     attempt=b.request.attempt):
                await step.do(b)
            done.append(step)
    except BaseException:
        for step in reversed(done):
            if step.undo is not None:
                await _undo(b, step)
        raise


async def _undo(b: Build, step: Step) -> None:
    try:
        with b.agent.tracer.span(f"undo: {step.what}", step.number):
            await step.undo(b)
    except Exception:  # noqa: BLE001 - the other undos still run
        log.exception("undo of step %s for %s failed", step.number, b.request.instance_id)


async def progress(b: Build, task_state: str, **recorded: Any) -> None:
    if not await b.agent.conductor.progress(b.ctx, b.instance.id, task_state, **recorded):
        raise InstanceGone(b.instance.id)


def guest_spec(b: Build) -> GuestSpec:
    i = b.instance
    return GuestSpec(
        instance_id=i.id, name=i.name, hostname=i.hostname, vcpus=i.flavor.vcpus,
        memory_mb=i.flavor.ram, root_gb=i.flavor.disk, image=b.image,
        image_data=b.agent.image_data(b.ctx, i.image_ref) if i.image_ref else None,
        nics=[Nic(v.port_id, v.mac, v.network_id, [ip["address"] for ip in v.ips], v.mtu,
                  v.details) for v in b.vifs],
        disks=b.disks, user_data=i.user_data, key_data=i.key_data, key_name=i.key_name,
        metadata=i.metadata, config_drive=i.config_drive,
        availability_zone=i.availability_zone or "nova", launch_index=i.launch_index,
        ephemeral_gb=i.flavor.ephemeral, swap_mb=i.flavor.swap,
        flavor_name=i.flavor.name, user_id=i.user_id, project_id=i.project_id,
        image_by_id=b.agent.image_source(b.ctx))


def power_state_name(state: int) -> str:
    return PowerState(state).name.lower()
