"""Provider segments: the network type, physical network and segmentation id of
a network, checked against and allocated from the `network` config section.
A network's `segment_key` is unique, so two networks never share a segment."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.config import NetworkConfig
from pocketstack.network import errors
from pocketstack.network.models import Network

OVERHEAD = {"vxlan": 50, "vlan": 0, "flat": 0, "local": 0}


@dataclass(frozen=True)
class Segment:
    network_type: str
    physical_network: str | None = None
    segmentation_id: int | None = None

    @property
    def key(self) -> str | None:
        if self.network_type == "flat":
            return f"flat:{self.physical_network}"
        if self.network_type in ("vlan", "vxlan"):
            return f"{self.network_type}:{self.physical_network or ''}:{self.segmentation_id}"
        return None


def vlan_ranges(cfg: NetworkConfig) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for item in cfg.vlan_ranges:
        physnet, lo, hi = item.rsplit(":", 2)
        out.setdefault(physnet, []).append((int(lo), int(hi)))
    return out


def vxlan_ranges(cfg: NetworkConfig) -> list[tuple[int, int]]:
    return [(int(lo), int(hi)) for lo, hi in (r.split(":") for r in cfg.vxlan_ranges)]


def mtu_for(cfg: NetworkConfig, network_type: str) -> int:
    return cfg.global_mtu - OVERHEAD.get(network_type, 0)


async def choose(session: AsyncSession, cfg: NetworkConfig, network_type: str | None,
                 physnet: str | None, seg_id: int | None) -> Segment:
    """The segment for a new network: as asked (admin), or the tenant default."""
    if network_type is None:
        if physnet is not None or seg_id is not None:
            raise errors.invalid_input("provider:network_type required")
        network_type = cfg.tenant_network_type
    if network_type == "local":
        _refuse(physnet is not None or seg_id is not None, "local networks take no segment")
        return Segment("local")
    if network_type == "flat":
        _refuse(seg_id is not None, "segmentation_id not allowed for flat network")
        _check_physnet(cfg, physnet)
        return Segment("flat", physnet)
    if network_type == "vlan":
        _check_physnet(cfg, physnet)
        ranges = vlan_ranges(cfg).get(physnet or "", [])
        return await _pick(session, Segment("vlan", physnet, seg_id), ranges, 4094)
    _refuse(physnet is not None, "physical_network not allowed for vxlan network")
    return await _pick(session, Segment("vxlan", None, seg_id), vxlan_ranges(cfg), 2**24 - 1)


def _refuse(cond: bool, message: str) -> None:
    if cond:
        raise errors.invalid_input(message)


def _check_physnet(cfg: NetworkConfig, physnet: str | None) -> None:
    if not physnet:
        raise errors.invalid_input("provider:physical_network required")
    if physnet not in cfg.physical_networks:
        raise errors.invalid_input(f"physical_network '{physnet}' unknown")


async def _pick(session: AsyncSession, want: Segment, ranges: list[tuple[int, int]],
                maximum: int) -> Segment:
    used = set(await session.scalars(select(Network.segmentation_id).where(
        Network.network_type == want.network_type,
        Network.physical_network.is_(None) if want.physical_network is None
        else Network.physical_network == want.physical_network)))
    if want.segmentation_id is not None:
        _refuse(not 1 <= want.segmentation_id <= maximum,
                f"segmentation_id out of range (1 through {maximum})")
        return want
    for lo, hi in ranges:
        for n in range(lo, hi + 1):
            if n not in used:
                return Segment(want.network_type, want.physical_network, n)
    raise errors.conflict("NoNetworkAvailable",
                          "Unable to create the network. No tenant network is available "
                          "for allocation.")
