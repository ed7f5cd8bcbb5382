"""A network's DHCP server: the `qdhcp-<network>` namespace joined to the
network's bridge by a veth (`tap<port>` on the bridge, `ns-<port>` inside,
with the DHCP port's MAC and addresses, and 169.254.169.254/32), dnsmasq on
it, and the metadata proxy listening on 169.254.169.254:80 in the namespace
(a socket made there, served by this process: no process in the namespace)."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path
from typing import Protocol

from pocketstack.network.agent.linuxbridge import ip, netns
from pocketstack.network.agent.linuxbridge.dnsmasq import METADATA_IP, Dnsmasq
from pocketstack.network.agent.linuxbridge.topology import Dhcp

log = logging.getLogger(__name__)
METADATA_PORT = 80


class MetadataServer(Protocol):
    """What answers guests' metadata requests (pocketstack.metadata.proxy.MetadataProxy)."""

    async def serve(self, sock: socket.socket, network_id: str) -> None: ...

    async def stop(self, network_id: str) -> None: ...


class DhcpServer:
    def __init__(self, network_id: str, workdir: Path, metadata: MetadataServer | None):
        self.network_id, self.metadata = network_id, metadata
        self.ns = ip.dhcp_namespace(network_id)
        self.dnsmasq: Dnsmasq | None = None
        self.workdir = workdir
        self.serving = False

    async def apply(self, spec: Dhcp) -> None:
        """Plumb (idempotently) and (re)configure dnsmasq for `spec`."""
        inner = ip.inner_name("ns-", spec.port_id)
        await ip.ensure_netns(self.ns)
        await ip.veth_into(ip.bridge_name(spec.network_id), ip.tap_name(spec.port_id),
                           self.ns, inner, spec.mac, spec.mtu or None)
        await ip.set_addresses(inner, list(spec.cidrs), netns=self.ns)
        if self.dnsmasq is not None and self.dnsmasq.interface != inner:
            await asyncio.to_thread(self.dnsmasq.stop)
            self.dnsmasq = None
        if self.dnsmasq is None:
            self.dnsmasq = Dnsmasq(self.workdir, inner, self.ns)
        self.dnsmasq.apply(spec.hosts, spec.subnets, spec.mtu)
        await self._serve_metadata()

    async def _serve_metadata(self) -> None:
        if self.metadata is None or self.serving:
            return
        sock = await netns.listen_in(self.ns, METADATA_IP, METADATA_PORT)
        try:
            await self.metadata.serve(sock, self.network_id)
        except BaseException:
            sock.close()
            raise
        self.serving = True

    async def stop(self) -> None:
        """Stop dnsmasq and the metadata proxy (the namespace stays)."""
        if self.serving and self.metadata is not None:
            await self.metadata.stop(self.network_id)
            self.serving = False
        if self.dnsmasq is not None:
            await asyncio.to_thread(self.dnsmasq.stop)
            self.dnsmasq = None

    async def remove(self) -> None:
        await self.stop()
        await ip.delete_netns(self.ns)
