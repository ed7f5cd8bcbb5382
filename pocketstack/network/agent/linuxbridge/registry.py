"""What each agent on this host created, so nothing outlives its owner.

Every agent keeps one record, /run/pocketstack/netagent/<agent id>.json:
its pid and the ids of the networks (bridges), DHCP namespaces, routers,
ports and security groups (firewall chains) it made. A restarted agent (same id) adopts its own
record; any agent starting removes what the records of dead owners list
(a killed test run), and the record with it."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pocketstack.network.agent.linuxbridge import firewall, ip, process, router

REGISTRY = Path("/run/pocketstack/netagent")


@dataclass
class Record:
    agent_id: str
    pid: int = field(default_factory=os.getpid)
    networks: list[str] = field(default_factory=list)
    dhcp: list[str] = field(default_factory=list)
    routers: list[str] = field(default_factory=list)
    ports: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)  # security groups' member chains

    def save(self, directory: Path = REGISTRY) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f".{self.agent_id}.tmp"
        tmp.write_text(json.dumps(asdict(self)))
        tmp.replace(directory / f"{self.agent_id}.json")

    def forget(self, directory: Path = REGISTRY) -> None:
        (directory / f"{self.agent_id}.json").unlink(missing_ok=True)


def load(agent_id: str, directory: Path = REGISTRY) -> Record | None:
    with contextlib.suppress(OSError, ValueError, TypeError):
        return Record(**json.loads((directory / f"{agent_id}.json").read_text()))
    return None


def stale(own_id: str, directory: Path = REGISTRY) -> list[Record]:
    """The records of dead agents other than `own_id`."""
    records = [load(e.stem, directory) for e in sorted(directory.glob("*.json"))] \
        if directory.is_dir() else []
    return [r for r in records if r is not None and r.agent_id != own_id
            and not process.alive(r.pid)]


async def reap_stale(own_id: str, directory: Path = REGISTRY) -> list[str]:
    """Remove what dead agents other than `own_id` left; the ids of those reaped."""
    reaped = []
    for record in stale(own_id, directory):
        await remove_all(record)
        record.forget(directory)
        reaped.append(record.agent_id)
    return reaped


async def remove_all(record: Record) -> None:
    """Everything a record lists: chains, router and DHCP namespaces, bridges."""
    await firewall.remove_chains(firewall.agent_chain(record.agent_id), record.ports,
                                 record.groups)
    for router_id in record.routers:
        await router.remove(router_id)
    for network_id in record.dhcp:
        await ip.delete_netns(ip.dhcp_namespace(network_id))
    for network_id in record.networks:
        await ip.delete_link(ip.bridge_name(network_id))
