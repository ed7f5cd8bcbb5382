"""The host commands the agent runs: `ip` for links, addresses, routes and
namespaces, `iptables-restore` for rules, sysctls in a namespace. Each runs
as a subprocess (never blocking the event loop); a failure raises
CommandFailed with the command's stderr. Needs root (CAP_NET_ADMIN).

Names: a network's bridge is `brq` + the first 11 characters of its id, a
port's device on a bridge is `tap` + 11 (what libvirt names a guest's NIC),
and its other end in a namespace `ns-`/`qr-`/`qg-` + 11 (as Neutron does).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

NETNS_DIR = Path("/run/netns")
SYS_NET = Path("/sys/class/net")


class CommandFailed(RuntimeError):
    def __init__(self, argv: list[str], code: int, stderr: str):
        self.argv, self.code, self.stderr = argv, code, stderr
        super().__init__(f"{' '.join(argv)} exited {code}: {stderr.strip()}")


def bridge_name(network_id: str) -> str:
    return "brq" + network_id[:11]


def tap_name(port_id: str) -> str:
    return "tap" + port_id[:11]


def dhcp_namespace(network_id: str) -> str:
    return "qdhcp-" + network_id


def router_namespace(router_id: str) -> str:
    return "qrouter-" + router_id


def inner_name(prefix: str, port_id: str) -> str:
    """A port's device inside a namespace: prefix `ns-`, `qr-` or `qg-`."""
    return prefix + port_id[:11]


async def run(*argv: str, netns: str | None = None, stdin: str | None = None,
              check: bool = True) -> str:
    """Run a command (in `netns` if given); its stdout."""
    full = ["ip", "netns", "exec", netns, *argv] if netns else list(argv)
    proc = await asyncio.create_subprocess_exec(
        *full, stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate(stdin.encode() if stdin is not None else None)
    if check and proc.returncode != 0:
        raise CommandFailed(full, proc.returncode or 0, err.decode(errors="replace"))
    return out.decode()


async def succeeds(*argv: str, netns: str | None = None) -> bool:
    try:
        await run(*argv, netns=netns)
    except CommandFailed:
        return False
    return True


async def ip(*args: str, netns: str | None = None, check: bool = True) -> str:
    return await run("ip", *(["-n", netns] if netns else []), *args, check=check)


def link_exists(name: str) -> bool:
    return (SYS_NET / name).exists()


def master_of(name: str) -> str | None:
    """The bridge a device is plugged into (root namespace), if any."""
    master = SYS_NET / name / "master"
    return master.resolve().name if master.exists() else None


def netns_exists(name: str) -> bool:
    return (NETNS_DIR / name).exists()


async def ensure_bridge(name: str, mtu: int | None = None) -> None:
    if not link_exists(name):
        await ip("link", "add", "name", name, "type", "bridge", "forward_delay", "0")
    if mtu:
        await ip("link", "set", name, "mtu", str(mtu))
    await ip("link", "set", name, "up")


async def delete_link(name: str, netns: str | None = None) -> None:
    await ip("link", "del", name, netns=netns, check=False)


async def plug(device: str, bridge: str) -> None:
    """Put a root-namespace device into a bridge and bring it up."""
    await ip("link", "set", device, "master", bridge, "up")


async def ensure_netns(name: str) -> None:
    if not netns_exists(name):
        await ip("netns", "add", name)
    await ip("link", "set", "lo", "up", netns=name)


async def delete_netns(name: str) -> None:
    """Delete a namespace (and with it the veths it holds, both ends)."""
    if netns_exists(name):
        await ip("netns", "del", name, check=False)


async def veth_into(bridge: str, outer: str, netns: str, inner: str, mac: str,
                    mtu: int | None = None) -> None:
    """A veth pair: `outer` plugged into `bridge`, `inner` (with `mac`) in `netns`.
    Idempotent: an existing inner device is kept."""
    if not await _exists_in(netns, inner):
        await delete_link(outer)
        await ip("link", "add", outer, "type", "veth", "peer", "name", inner,
                 "address", mac, "netns", netns)
    if mtu:
        await ip("link", "set", outer, "mtu", str(mtu))
        await ip("link", "set", inner, "mtu", str(mtu), netns=netns)
    await plug(outer, bridge)
    await ip("link", "set", inner, "up", netns=netns)


async def _exists_in(netns: str, device: str) -> bool:
    out = await ip("-o", "link", "show", "dev", device, netns=netns, check=False)
    return bool(out.strip())


async def devices(netns: str) -> list[str]:
    """The names of the devices in a namespace."""
    out = await ip("-o", "link", "show", netns=netns)
    return [line.split(":")[1].strip().split("@")[0] for line in out.splitlines()
            if line.count(":") >= 2]


async def set_addresses(device: str, cidrs: list[str], netns: str | None = None) -> None:
    """Make the device's addresses exactly `cidrs` (a.b.c.d/len; IPv6 link-local kept)."""
    out = await ip("-o", "addr", "show", "dev", device, netns=netns)
    have = {f[3] for f in (line.split() for line in out.splitlines())
            if len(f) > 3 and not (f[2] == "inet6" and f[3].startswith("fe80:"))}
    for cidr in have - set(cidrs):
        await ip("addr", "del", cidr, "dev", device, netns=netns, check=False)
    for cidr in [c for c in cidrs if c not in have]:
        await ip("addr", "add", cidr, "dev", device, netns=netns)


async def set_default_route(gateway: str | None, netns: str) -> None:
    if gateway:
        await ip("route", "replace", "default", "via", gateway, netns=netns)
    else:
        await ip("route", "del", "default", netns=netns, check=False)


async def sysctl(key: str, value: str, netns: str) -> None:
    await run("sysctl", "-q", "-w", f"{key}={value}", netns=netns)
