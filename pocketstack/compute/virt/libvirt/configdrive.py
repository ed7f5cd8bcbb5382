"""The config drive: a small disk labelled `config-2` holding what the metadata
service would say (metadata/content.py builds both), as Nova writes it:
ISO 9660 with Rock Ridge and Joliet (config_drive_format = iso9660, written
by xorriso or genisoimage) or a 64 MiB vfat disk (vfat, mkfs.fat and mtools).
No mounts either way."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

from pocketstack.compute.virt.driver import DriverError, GuestSpec
from pocketstack.metadata import content

SIZE_KIB = 64 * 1024  # Nova's vfat config drive is 64 MiB
LABEL = "config-2"
FORMATS = ("iso9660", "vfat")


def describe(spec: GuestSpec, dhcp_domain: str = "novalocal") -> content.Instance:
    """The instance as the content builder takes it. The agent knows a NIC's addresses
    but not its subnets: the networks are shown as DHCP ones, as Neutron's usually are."""
    try:
        user_data = content.decode_user_data(spec.user_data)
    except ValueError as e:
        raise DriverError("The user data is not valid base64.") from e
    key = None
    if spec.key_data:
        key = content.KeyPair(spec.key_name or "key", spec.key_data)
    return content.Instance(
        uuid=spec.instance_id, name=spec.name, hostname=spec.hostname,
        project_id=spec.project_id, availability_zone=spec.availability_zone,
        launch_index=spec.launch_index, key=key, user_data=user_data,
        metadata=dict(spec.metadata), flavor_name=spec.flavor_name,
        image_id=str(spec.image.get("id") or ""), dhcp_domain=dhcp_domain,
        interfaces=[content.Interface(n.port_id, n.mac, n.network_id,
                                      tuple(content.Address(ip) for ip in n.ips), mtu=n.mtu)
                    for n in spec.nics])


def iso_writer() -> str | None:
    """The ISO 9660 writer installed, if any."""
    return next((t for t in ("xorriso", "genisoimage", "mkisofs") if shutil.which(t)), None)


async def _run(*argv: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    if proc.returncode:
        raise DriverError(f"config drive: {argv[0]} failed: {err.decode().strip()}")


def _stage(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


async def make(path: Path, spec: GuestSpec, fmt: str = "vfat",
               dhcp_domain: str = "novalocal") -> None:
    """Write the config drive of spec to path (a raw image in format `fmt`)."""
    files = content.config_drive_files(describe(spec, dhcp_domain))
    with tempfile.TemporaryDirectory() as tmp:
        await asyncio.to_thread(_stage, Path(tmp), files)
        if fmt == "iso9660":
            await _iso(path, Path(tmp))
        elif fmt == "vfat":
            await _run("mkfs.fat", "-C", "-n", LABEL, str(path), str(SIZE_KIB))
            tops = sorted({name.split("/")[0] for name in files})  # ec2, openstack
            await _run("mcopy", "-s", "-i", str(path), *(str(Path(tmp) / t) for t in tops), "::")
        else:
            raise DriverError(f"config drive: unknown format {fmt!r}; use one of {FORMATS}")


async def _iso(path: Path, root: Path) -> None:
    tool = iso_writer()
    if tool is None:
        raise DriverError("config drive: iso9660 needs xorriso or genisoimage installed")
    mkisofs = ["xorriso", "-as", "mkisofs"] if tool == "xorriso" else [tool]
    # Nova's options: lowercase, dotted and long names kept, Rock Ridge and Joliet.
    await _run(*mkisofs, "-o", str(path), "-ldots", "-allow-lowercase", "-allow-multidot",
               "-l", "-V", LABEL, "-r", "-J", "-quiet", str(root))
