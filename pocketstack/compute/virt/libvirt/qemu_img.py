"""qemu-img, run as a subprocess off the event loop. Formats are always passed
explicitly (-f, -F, -O): an image's format is never guessed from its contents,
which would let a raw image posing as qcow2 name a backing file on the host
(CVE-2026-24708 and its ancestors)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

FORMATS = ("raw", "qcow2")


class QemuImgError(RuntimeError):
    pass


async def run(*args: str | Path) -> str:
    proc = await asyncio.create_subprocess_exec(
        "qemu-img", *map(str, args),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    if proc.returncode:
        raise QemuImgError(f"qemu-img {args[0]}: {err.decode().strip()}")
    return out.decode()


def _check(fmt: str) -> str:
    if fmt not in FORMATS:
        raise QemuImgError(f"unsupported disk format {fmt!r}")
    return fmt


async def info(path: Path, fmt: str, force_share: bool = False) -> dict[str, Any]:
    extra = ["-U"] if force_share else []
    return json.loads(await run("info", *extra, "-f", _check(fmt), "--output=json", path))


async def create_overlay(path: Path, backing: Path, backing_fmt: str) -> None:
    await run("create", "-q", "-f", "qcow2", "-F", _check(backing_fmt), "-b", backing, path)


async def create(path: Path, fmt: str, size_bytes: int) -> None:
    await run("create", "-q", "-f", _check(fmt), path, str(size_bytes))


async def resize(path: Path, fmt: str, size_bytes: int) -> None:
    await run("resize", "-q", "-f", _check(fmt), path, str(size_bytes))


async def convert(src: Path, src_fmt: str, dest: Path, dest_fmt: str,
                  force_share: bool = False) -> None:
    extra = ["-U"] if force_share else []
    await run("convert", *extra, "-f", _check(src_fmt), "-O", _check(dest_fmt), src, dest)
