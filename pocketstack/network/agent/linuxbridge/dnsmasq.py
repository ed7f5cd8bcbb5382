"""DHCP for a network: one dnsmasq in the network's qdhcp namespace, serving
static leases only (MAC -> IP from the ports, `--dhcp-hostsfile`) and, per
subnet, the router, the DNS servers, the MTU and classless static routes
(option 121, and 249 for Windows) with 169.254.169.254/32 via the DHCP port,
so guests reach the metadata proxy there (`--dhcp-optsfile`). Both files are
re-read on SIGHUP, so port changes never restart dnsmasq; a subnet change
(its dhcp-range is on the command line) does. IPv4 only.

dnsmasq-base has no `dnsmasq` user: it runs as root (`--user=root`)."""

from __future__ import annotations

import ipaddress
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pocketstack.network.agent.linuxbridge import process

METADATA_IP = "169.254.169.254"
LEASE_SECONDS = 86400


@dataclass(frozen=True)
class DhcpSubnet:
    id: str
    cidr: str
    gateway_ip: str | None = None
    dns_nameservers: tuple[str, ...] = ()
    host_routes: tuple[tuple[str, str], ...] = ()  # (destination, nexthop)
    server_ip: str = ""  # the DHCP port's address on this subnet

    @property
    def tag(self) -> str:
        return "subnet-" + self.id


@dataclass(frozen=True)
class DhcpHost:
    mac: str
    ip: str

    @property
    def hostname(self) -> str:
        return "host-" + self.ip.replace(".", "-")


def render_hosts(hosts: list[DhcpHost] | tuple[DhcpHost, ...]) -> str:
    """dhcp-hostsfile: `mac,hostname,ip` per fixed IP, sorted."""
    return "".join(f"{h.mac},{h.hostname},{h.ip}\n"
                   for h in sorted(hosts, key=lambda h: (h.mac, h.ip)))


def render_opts(subnets: list[DhcpSubnet] | tuple[DhcpSubnet, ...], mtu: int = 0) -> str:
    """dhcp-optsfile: per subnet (by tag), the router, DNS, MTU and routes."""
    lines: list[str] = []
    for sn in subnets:
        tag = f"tag:{sn.tag}"
        lines.append(f"{tag},option:router" + (f",{sn.gateway_ip}" if sn.gateway_ip else ""))
        lines.append(f"{tag},option:dns-server" + "".join(f",{d}" for d in sn.dns_nameservers))
        if mtu:
            lines.append(f"{tag},option:mtu,{mtu}")
        routes = _classless_routes(sn)
        if routes:
            lines.append(f"{tag},option:classless-static-route,{routes}")
            lines.append(f"{tag},249,{routes}")
    return "".join(line + "\n" for line in lines)


def _classless_routes(sn: DhcpSubnet) -> str:
    """Option 121 replaces the router option in clients, so it carries the
    default route too; the metadata route goes to the DHCP port."""
    routes: list[tuple[str, str]] = []
    if sn.server_ip:
        routes.append((f"{METADATA_IP}/32", sn.server_ip))
    routes += [r for r in sn.host_routes if r[0] != f"{METADATA_IP}/32"]
    if sn.gateway_ip and not any(d == "0.0.0.0/0" for d, _ in routes):
        routes.append(("0.0.0.0/0", sn.gateway_ip))
    return ",".join(f"{d},{n}" for d, n in routes)


def dhcp_range(sn: DhcpSubnet) -> str:
    net = ipaddress.ip_network(sn.cidr)
    return f"set:{sn.tag},{net.network_address},static,{net.netmask},{LEASE_SECONDS}s"


def argv(workdir: Path, interface: str, subnets: list[DhcpSubnet] | tuple[DhcpSubnet, ...],
         netns: str | None = None) -> list[str]:
    """The dnsmasq command (run in `netns` if given): DHCP only (no DNS), in the
    foreground, on `interface` only, its files in `workdir`."""
    cmd = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-hosts",
           "--no-resolv", "--port=0", "--user=root", "--bind-interfaces",
           f"--interface={interface}", "--except-interface=lo", "--dhcp-authoritative",
           f"--dhcp-hostsfile={workdir / 'hosts'}", f"--dhcp-optsfile={workdir / 'opts'}",
           f"--dhcp-leasefile={workdir / 'leases'}", f"--pid-file={workdir / 'pid'}"]
    cmd += [f"--dhcp-range={dhcp_range(sn)}" for sn in subnets]
    return (["ip", "netns", "exec", netns] if netns else []) + cmd


class Dnsmasq:
    """One dnsmasq: its files, its process (a child of this one), reloads."""

    def __init__(self, workdir: Path, interface: str, netns: str | None = None):
        self.workdir, self.interface, self.netns = workdir, interface, netns
        self.proc: subprocess.Popen | None = None
        self.running_for: tuple[DhcpSubnet, ...] = ()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def write(self, hosts: list[DhcpHost] | tuple[DhcpHost, ...],
              subnets: list[DhcpSubnet] | tuple[DhcpSubnet, ...], mtu: int = 0) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        _replace(self.workdir / "hosts", render_hosts(hosts))
        _replace(self.workdir / "opts", render_opts(subnets, mtu))

    def apply(self, hosts: list[DhcpHost] | tuple[DhcpHost, ...],
              subnets: tuple[DhcpSubnet, ...], mtu: int = 0) -> None:
        """Write the files; start dnsmasq, restart it if the subnets changed,
        else SIGHUP it to re-read them."""
        self.write(hosts, subnets, mtu)
        ranges = tuple(dhcp_range(sn) for sn in subnets)
        if self.pid is not None and ranges == tuple(dhcp_range(sn) for sn in self.running_for):
            self.proc.send_signal(signal.SIGHUP)  # type: ignore[union-attr]
            return
        self.stop()
        self.proc = process.spawn(argv(self.workdir, self.interface, subnets, self.netns))
        self.running_for = subnets

    def stop(self) -> None:
        if self.proc is not None:
            process.stop(self.proc)
            self.proc = None


def _replace(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(path)
