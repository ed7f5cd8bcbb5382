"""qemu-img as an asyncio subprocess: create, info, convert, resize.

Every call names the formats explicitly (`-f` for what is read, `-O` for what
is written): qemu-img never guesses a format from the data. A non-zero exit
raises BackendError carrying qemu-img's own message.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

from pocketstack.volume.backends.base import BackendError

FORMATS = ("raw", "qcow2", "vmdk", "vdi", "vhd", "vhdx", "qed")
# qemu-img's names for the image service's disk formats.
_QEMU_NAME = {"vhd": "vpc", "iso": "raw"}


def available() -> bool:
    return shutil.which("qemu-img") is not None


def qemu_format(disk_format: str) -> str:
    return _QEMU_NAME.get(disk_format, disk_format)


async def run(*args: str) -> str:
    try:
        proc = await asyncio.create_subprocess_exec(
            "qemu-img", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    except FileNotFoundError:
        raise BackendError("qemu-img is not installed") from None
    out, err = await proc.communicate()
    if proc.returncode != 0:
        text = err.decode(errors="replace").strip() or f"exit status {proc.returncode}"
        raise BackendError(f"qemu-img {args[0]} failed: {text}")
    return out.decode(errors="replace")


async def create(path: Path, fmt: str, size_bytes: int) -> None:
    await run("create", "-q", "-f", fmt, str(path), str(size_bytes))


async def info(path: Path, fmt: str) -> dict[str, Any]:
    return json.loads(await run("info", "-f", qemu_format(fmt), "--output=json", str(path)))


async def convert(src: Path | str, src_fmt: str, dst: Path | str, dst_fmt: str) -> None:
    await run("convert", "-q", "-f", qemu_format(src_fmt), "-O", qemu_format(dst_fmt),
              str(src), str(dst))


async def resize(path: Path, fmt: str, size_bytes: int) -> None:
    await run("resize", "-q", "-f", fmt, str(path), str(size_bytes))


async def check_safe(path: Path, disk_format: str) -> dict[str, Any]:
    """qemu-img info of an untrusted image; refuses backing files and external data."""
    if qemu_format(disk_format) not in {qemu_format(f) for f in FORMATS}:
        raise BackendError(f"cannot convert images of disk format {disk_format!r}")
    found = await info(path, disk_format)
    if found.get("backing-filename") or found.get("full-backing-filename"):
        raise BackendError("image has a backing file; refusing to use it")
    data_file = (found.get("format-specific", {}).get("data", {}) or {}).get("data-file")
    if data_file:
        raise BackendError("image has an external data file; refusing to use it")
    return found
