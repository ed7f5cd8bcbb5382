"""The config drive: a small vfat disk labelled `config-2` holding what the
metadata service would say (openstack/latest/meta_data.json, user_data,
network_data.json, vendor_data.json), as Nova writes it with
config_drive_format = vfat. Built with mkfs.fat and mtools, no mounts."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import tempfile
from pathlib import Path
from typing import Any

from pocketstack.compute.virt.driver import DriverError, GuestSpec

SIZE_KIB = 64 * 1024  # Nova's config drive is 64 MiB
LABEL = "config-2"


def meta_data(spec: GuestSpec) -> dict[str, Any]:
    keys = {"key": spec.key_data} if spec.key_data else {}
    return {
        "uuid": spec.instance_id, "name": spec.name, "hostname": spec.hostname,
        "launch_index": 0, "availability_zone": "nova", "project_id": spec.project_id,
        "public_keys": keys,
        "keys": [{"name": n, "type": "ssh", "data": d} for n, d in keys.items()],
        "meta": dict(spec.metadata),
    }


def network_data(spec: GuestSpec) -> dict[str, Any]:
    links = [{"id": f"tap{n.port_id[:11]}", "type": "bridge", "ethernet_mac_address": n.mac,
              "mtu": n.mtu, "vif_id": n.port_id} for n in spec.nics]
    networks = [{"id": f"network{i}", "type": "ipv6_dhcp" if ":" in ip else "ipv4_dhcp",
                 "link": f"tap{n.port_id[:11]}", "network_id": n.network_id}
                for i, (n, ip) in enumerate((n, ip) for n in spec.nics for ip in n.ips)]
    return {"links": links, "networks": networks, "services": []}


def files(spec: GuestSpec) -> dict[str, bytes]:
    """Path inside the drive -> content."""
    out = {
        "openstack/latest/meta_data.json": json.dumps(meta_data(spec)).encode(),
        "openstack/latest/network_data.json": json.dumps(network_data(spec)).encode(),
        "openstack/latest/vendor_data.json": b"{}",
    }
    if spec.user_data:
        try:
            out["openstack/latest/user_data"] = base64.b64decode(spec.user_data, validate=True)
        except binascii.Error as e:
            raise DriverError("The user data is not valid base64.") from e
    return out


async def _run(*argv: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    if proc.returncode:
        raise DriverError(f"config drive: {argv[0]} failed: {err.decode().strip()}")


def _stage(root: Path, content: dict[str, bytes]) -> None:
    for name, data in content.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


async def make(path: Path, spec: GuestSpec) -> None:
    """Write the config drive of spec to path (a raw vfat image)."""
    with tempfile.TemporaryDirectory() as tmp:
        await asyncio.to_thread(_stage, Path(tmp), files(spec))
        await _run("mkfs.fat", "-C", "-n", LABEL, str(path), str(SIZE_KIB))
        await _run("mcopy", "-s", "-i", str(path), str(Path(tmp) / "openstack"), "::")
