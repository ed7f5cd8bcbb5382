"""Disk image format inspection: what an uploaded file really is, and whether
it is safe to hand to qemu.

Every format's inspector reads only the byte ranges it needs (`Region`s)
from the stream as it passes, so inspection costs no extra read and bounded
memory (at most ~1 MiB, the largest VMDK descriptor). `Inspection` runs
every inspector side by side; `verdict(disk_format)` then refuses (with a
reason) a file whose content is not the declared format, a file that looks
like two formats at once, and the CVE-2024-32498 family of hostile images:
a qcow2 with a backing file or an external data file, a vmdk whose
descriptor names other files or is not a single-file sparse disk, a vhdx
with a parent (a differencing disk).
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass

# Formats we can recognise from their header; `raw` is what is left.
INSPECTED = ("raw", "qcow2", "vmdk", "vhd", "vhdx", "vdi", "iso")


class UnsafeImage(Exception):
    """The data cannot be accepted as the declared format; the message says why."""


@dataclass
class Region:
    """A byte range of the stream to capture: [offset, offset + length)."""

    offset: int
    length: int

    def __post_init__(self) -> None:
        self.data = bytearray()

    @property
    def complete(self) -> bool:
        return len(self.data) >= self.length

    def feed(self, chunk: bytes | memoryview, pos: int) -> None:
        """Keep the part of `chunk` (which starts at stream offset `pos`) inside the range."""
        start = max(pos, self.offset + len(self.data))
        end = min(pos + len(chunk), self.offset + self.length)
        if start < end:
            self.data += chunk[start - pos:end - pos]


class Inspector:
    """One format. Subclasses declare regions, may add regions as they learn
    where things are (`_progress`), and answer `matches`, `virtual_size` and
    `problems` (the safety violations found)."""

    name = "raw"
    magic_region = Region(0, 0)

    def __init__(self) -> None:
        self.regions: dict[str, Region] = {}
        self.broken: str | None = None  # the header is this format's but is unreadable
        self._initial()

    def _initial(self) -> None:
        pass

    def want(self, name: str, offset: int, length: int) -> None:
        if name not in self.regions:
            self.regions[name] = Region(offset, length)

    def feed(self, chunk: bytes | memoryview, pos: int) -> None:
        for _ in range(4):  # a new region may start inside this same chunk
            before = len(self.regions)
            for region in list(self.regions.values()):
                if not region.complete:
                    region.feed(chunk, pos)
            if not self.broken:
                try:
                    self._progress()
                except (struct.error, ValueError, IndexError) as e:
                    self.broken = f"unreadable {self.name} header ({e})"
            if len(self.regions) == before:
                break

    def _progress(self) -> None:
        pass

    def region(self, name: str) -> bytes:
        return bytes(self.regions[name].data)

    def have(self, *names: str) -> bool:
        return all(n in self.regions and self.regions[n].complete for n in names)

    @property
    def matches(self) -> bool:
        return False

    @property
    def settled(self) -> bool:
        """Nothing more to learn from the stream: every region captured, or
        the magic already ruled this format out."""
        if self.broken:
            return True
        if "header" in self.regions and self.have("header") and not self.matches:
            return True
        return all(r.complete for r in self.regions.values())

    def virtual_size(self) -> int | None:
        return None

    def problems(self) -> list[str]:
        return []


def _u(fmt: str, data: bytes, offset: int) -> int:
    return struct.unpack_from(fmt, data, offset)[0]


class Qcow2(Inspector):
    name = "qcow2"
    KNOWN_INCOMPATIBLE = 0b11111  # dirty, corrupt, data file, compression type, extended L2
    DATA_FILE = 1 << 2

    def _initial(self) -> None:
        self.want("header", 0, 112)

    @property
    def matches(self) -> bool:
        return self.have("header") and self.region("header")[:4] == b"QFI\xfb"

    def virtual_size(self) -> int | None:
        return _u(">Q", self.region("header"), 24) if self.matches else None

    def problems(self) -> list[str]:
        h = self.region("header")
        version = _u(">I", h, 4)
        found = []
        if version not in (2, 3):
            found.append(f"unsupported qcow2 version {version}")
        if _u(">Q", h, 8) != 0 or _u(">I", h, 16) != 0:
            found.append("qcow2 image has a backing file")
        if version >= 3:
            features = _u(">Q", h, 72)
            if features & self.DATA_FILE:
                found.append("qcow2 image has an external data file")
            if features & ~self.KNOWN_INCOMPATIBLE:
                found.append("qcow2 image uses unknown incompatible features")
        if _u(">I", h, 32) != 0:
            found.append("qcow2 image is encrypted")
        return found


class Qed(Inspector):
    """QED: recognised only to be refused (nobody should use it; qemu follows its backing file)."""

    name = "qed"

    def _initial(self) -> None:
        self.want("header", 0, 8)

    @property
    def matches(self) -> bool:
        return self.have("header") and self.region("header")[:4] == b"QED\x00"

    def problems(self) -> list[str]:
        return ["qed images are not accepted"]


class Vhd(Inspector):
    """A dynamic VHD starts with a copy of its 512-byte footer ('conectix')."""

    name = "vhd"

    def _initial(self) -> None:
        self.want("header", 0, 512)

    @property
    def matches(self) -> bool:
        return self.have("header") and self.region("header")[:8] == b"conectix"

    def virtual_size(self) -> int | None:
        return _u(">Q", self.region("header"), 48) if self.matches else None

    def problems(self) -> list[str]:
        disk_type = _u(">I", self.region("header"), 60)
        return ["vhd image is a differencing disk"] if disk_type == 4 else []


def _guid(text: str) -> bytes:
    return uuid.UUID(text).bytes_le


class Vhdx(Inspector):
    """Region table at 192 KiB -> metadata region -> metadata items (size, parent locator)."""

    name = "vhdx"
    METADATA_REGION = _guid("8B7CA206-4790-4B9A-B8FE-575F050F886E")
    VIRTUAL_DISK_SIZE = _guid("2FA54224-CD1B-4876-B211-5DBED83BF4B8")
    PARENT_LOCATOR = _guid("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C")
    MAX_ENTRIES = 2047

    def _initial(self) -> None:
        self.want("header", 0, 8)
        self.want("regions", 192 * 1024, 16 + 32 * 64)
        self._items: dict[bytes, tuple[int, int]] | None = None

    @property
    def matches(self) -> bool:
        return self.have("header") and self.region("header") == b"vhdxfile"

    def _progress(self) -> None:
        if not self.matches:
            return
        if self.have("regions") and "metadata" not in self.regions:
            table = self.region("regions")
            if table[:4] != b"regi":
                raise ValueError("no region table")
            count = _u("<I", table, 8)
            for i in range(min(count, 64)):
                entry = table[16 + 32 * i:48 + 32 * i]
                if entry[:16] == self.METADATA_REGION:
                    self.want("metadata", _u("<Q", entry, 16), 32 + 32 * self.MAX_ENTRIES)
                    return
            raise ValueError("no metadata region")
        if self.have("metadata") and self._items is None:
            table = self.region("metadata")
            if table[:8] != b"metadata":
                raise ValueError("bad metadata table signature")
            count = min(_u("<H", table, 10), self.MAX_ENTRIES)
            base = self.regions["metadata"].offset
            self._items = {}
            for i in range(count):
                entry = table[32 + 32 * i:64 + 32 * i]
                self._items[entry[:16]] = (_u("<I", entry, 16), _u("<I", entry, 20))
            if self.VIRTUAL_DISK_SIZE not in self._items:
                raise ValueError("no virtual disk size")
            self.want("size", base + self._items[self.VIRTUAL_DISK_SIZE][0], 8)

    @property
    def settled(self) -> bool:
        if self.broken or (self.have("header") and not self.matches):
            return True
        return self.have("header", "regions", "metadata", "size")

    def virtual_size(self) -> int | None:
        return _u("<Q", self.region("size"), 0) if self.have("size") else None

    def problems(self) -> list[str]:
        if not self.have("size"):
            return ["vhdx metadata could not be read"]
        if self._items and self.PARENT_LOCATOR in self._items:
            return ["vhdx image is a differencing disk (it has a parent)"]
        return []


class Vmdk(Inspector):
    """Only single-file sparse disks (monolithicSparse, streamOptimized) whose
    embedded descriptor names no other file."""

    name = "vmdk"
    ALLOWED_TYPES = ("monolithicsparse", "streamoptimized")
    DESCRIPTOR_MAX = (1 << 20) - 1

    def _initial(self) -> None:
        self.want("header", 0, 512)

    @property
    def matches(self) -> bool:
        return self.have("header") and self.region("header")[:4] == b"KDMV"

    def _progress(self) -> None:
        if not self.matches or "descriptor" in self.regions:
            return
        h = self.region("header")
        sector, count = _u("<Q", h, 28), _u("<Q", h, 36)
        if sector != 1:
            raise ValueError("descriptor is not where it must be")
        self.want("descriptor", 512, min(count * 512, self.DESCRIPTOR_MAX))

    def virtual_size(self) -> int | None:
        return _u("<Q", self.region("header"), 12) * 512 if self.matches else None

    def problems(self) -> list[str]:
        version = _u("<I", self.region("header"), 4)
        if version not in (1, 2, 3):
            return [f"unsupported vmdk version {version}"]
        if not self.have("descriptor"):
            return ["vmdk descriptor is missing"]
        return vmdk_descriptor_problems(self.region("descriptor"), self.ALLOWED_TYPES)


def vmdk_descriptor_problems(raw: bytes, allowed_types: tuple[str, ...]) -> list[str]:
    """Every line must be understood; one SPARSE extent, no path in its name."""
    try:
        text = raw.rstrip(b"\x00").decode("ascii").lower()
    except UnicodeDecodeError:
        return ["vmdk descriptor is not ASCII text"]
    create_type, extents = None, []
    for line in (x.strip() for x in text.splitlines()):
        if not line or line.startswith("#") or line.startswith("ddb."):
            continue
        key, eq, value = line.partition("=")
        if eq and " " not in key.strip():
            if key.strip() == "createtype":
                create_type = value.strip().strip('"')
            continue
        if line.split()[0] in ("rw", "rdonly", "noaccess"):
            extents.append(line)
            continue
        return ["vmdk descriptor has a line that is not understood"]
    if create_type not in allowed_types:
        return [f"vmdk createType {create_type!r} is not a single-file sparse disk"]
    if len(extents) != 1:
        return [f"vmdk descriptor names {len(extents)} extents, not one"]
    parts = extents[0].split()
    if len(parts) < 4 or parts[2] != "sparse" or "/" in extents[0] or "\\" in extents[0]:
        return ["vmdk extent refers to another file"]
    return []


class VmdkText(Inspector):
    """A text VMDK descriptor: it can only point at other files. Always refused."""

    name = "vmdk-descriptor"
    MAGIC = b"# disk descriptorfile"

    def _initial(self) -> None:
        self.want("header", 0, len(self.MAGIC))

    @property
    def matches(self) -> bool:
        return self.have("header") and self.region("header").lower() == self.MAGIC

    def problems(self) -> list[str]:
        return ["a text vmdk descriptor refers to other files"]


class Vdi(Inspector):
    name = "vdi"

    def _initial(self) -> None:
        self.want("header", 0, 512)

    @property
    def matches(self) -> bool:
        return self.have("header") and _u("<I", self.region("header"), 0x40) == 0xBEDA107F

    def virtual_size(self) -> int | None:
        return _u("<Q", self.region("header"), 0x170) if self.matches else None

    def problems(self) -> list[str]:
        image_type = _u("<I", self.region("header"), 0x4C)
        return [] if image_type in (1, 2) else [f"vdi image type {image_type} is not accepted"]


class Iso(Inspector):
    """ISO 9660 (primary volume descriptor 'CD001' at sector 16) or UDF ('BEA01')."""

    name = "iso"

    def _initial(self) -> None:
        self.want("header", 0x8000, 2048)

    @property
    def matches(self) -> bool:
        return self.have("header") and self.region("header")[1:6] in (b"CD001", b"BEA01")

    def virtual_size(self) -> int | None:
        h = self.region("header")
        if not self.matches or h[0] != 1 or h[1:6] != b"CD001":
            return None
        return _u("<I", h, 80) * _u("<H", h, 128)


FORMATS: tuple[type[Inspector], ...] = (Qcow2, Qed, Vhd, Vhdx, Vmdk, VmdkText, Vdi, Iso)


class Inspection:
    """All inspectors fed from one stream. Feed every chunk in order with
    `feed`; once `settled`, later chunks are ignored at no cost."""

    def __init__(self) -> None:
        self.inspectors = [cls() for cls in FORMATS]
        self.position = 0
        self.settled = False

    def feed(self, chunk: bytes | memoryview) -> None:
        if not self.settled:
            for inspector in self.inspectors:
                if not inspector.settled:
                    inspector.feed(chunk, self.position)
            self.settled = all(i.settled for i in self.inspectors)
        self.position += len(chunk)

    def detected(self) -> list[Inspector]:
        return [i for i in self.inspectors if i.matches]

    def verdict(self, disk_format: str | None) -> int | None:
        """The virtual size if the data may be stored as `disk_format`;
        raises UnsafeImage otherwise."""
        found = self.detected()
        broken = [i for i in found if i.broken]
        if broken:
            raise UnsafeImage(f"Image is not a valid {broken[0].name} image: {broken[0].broken}.")
        if len(found) > 1:
            names = ", ".join(i.name for i in found)
            raise UnsafeImage(f"Image data matches several formats ({names}); refusing it.")
        match = found[0] if found else None
        if match is not None:
            problems = match.problems()
            if problems:
                raise UnsafeImage("Image is not safe: " + "; ".join(problems) + ".")
        if disk_format == "raw":
            if match is not None:
                raise UnsafeImage(f"Image data is {match.name}, not raw as declared.")
            return self.position
        if disk_format in INSPECTED:
            if match is None or match.name != disk_format:
                what = match.name if match else "not a recognised disk format"
                raise UnsafeImage(
                    f"Image data does not match disk_format {disk_format} (it is {what}).")
            return match.virtual_size()
        return match.virtual_size() if match else None


def inspect_bytes(data: bytes, disk_format: str | None) -> int | None:
    """`verdict` for data held in memory (tests, small files)."""
    inspection = Inspection()
    for i in range(0, len(data), 65536):
        inspection.feed(data[i:i + 65536])
    return inspection.verdict(disk_format)
