"""The test VM's initramfs: busybox, /init, the virtio modules, as a gzipped newc cpio.

Written here rather than with cpio(1) so that owners are root and /dev/console
exists without running as root.
"""

from __future__ import annotations

import gzip
import re
import stat
from dataclasses import dataclass
from pathlib import Path

# What the guest needs; their dependencies are added, in load order.
WANTED_MODULES = (
    "virtio_pci", "virtio_blk", "virtio_net", "virtio-rng", "virtio_console",
    "virtio_balloon", "button", "evdev", "vfat", "nls_cp437", "nls_ascii", "nls_utf8",
)


@dataclass(frozen=True)
class Entry:
    path: str  # inside the archive, no leading slash
    mode: int
    data: bytes = b""
    rdev: tuple[int, int] = (0, 0)


def directory(path: str) -> Entry:
    return Entry(path, stat.S_IFDIR | 0o755)


def file(path: str, data: bytes, perm: int = 0o644) -> Entry:
    return Entry(path, stat.S_IFREG | perm, data)


def chardev(path: str, major: int, minor: int) -> Entry:
    return Entry(path, stat.S_IFCHR | 0o600, rdev=(major, minor))


def _pad(n: int) -> bytes:
    return b"\0" * (-n % 4)


def _record(ino: int, entry: Entry) -> bytes:
    name = entry.path.encode() + b"\0"
    fields = (ino, entry.mode, 0, 0, 1, 0, len(entry.data), 0, 0,
              entry.rdev[0], entry.rdev[1], len(name), 0)
    header = b"070701" + b"".join(b"%08X" % f for f in fields)
    head = header + name
    return head + _pad(len(head)) + entry.data + _pad(len(entry.data))


def cpio(entries: list[Entry]) -> bytes:
    """A newc archive of entries, parents listed before their children."""
    body = b"".join(_record(i + 1, e) for i, e in enumerate(entries))
    return body + _record(0, Entry("TRAILER!!!", 0))


def module_index(modules_root: Path) -> dict[str, Path]:
    """Module name (as modinfo spells it, '-' kept) -> .ko path."""
    return {p.stem: p for p in modules_root.rglob("*.ko")}


def _depends(ko: Path) -> list[str]:
    match = re.search(rb"\0depends=([^\0]*)\0", ko.read_bytes())
    return [d for d in match.group(1).decode().split(",") if d] if match else []


def load_order(index: dict[str, Path], wanted: tuple[str, ...] = WANTED_MODULES) -> list[str]:
    """wanted and their dependencies, each after what it depends on."""
    order: list[str] = []

    def visit(name: str) -> None:
        key = name if name in index else name.replace("_", "-")
        if key not in index:
            key = name.replace("-", "_")
        if key in order:
            return
        if key not in index:
            raise FileNotFoundError(f"kernel module {name} not found")
        for dep in _depends(index[key]):
            visit(dep)
        order.append(key)

    for name in wanted:
        visit(name)
    return order


def build(busybox: Path, init: bytes, udhcpc_script: bytes, modules_root: Path) -> bytes:
    """The gzipped initramfs."""
    index = module_index(modules_root)
    order = load_order(index)
    entries = [directory(d) for d in ("bin", "dev", "etc", "lib", "lib/modules", "run")]
    entries += [
        chardev("dev/console", 5, 1),
        chardev("dev/null", 1, 3),
        file("bin/busybox", busybox.read_bytes(), 0o755),
        file("init", init, 0o755),
        file("etc/udhcpc.script", udhcpc_script, 0o755),
        file("lib/modules/load-order", "\n".join(order).encode() + b"\n"),
    ]
    entries += [file(f"lib/modules/{name}.ko", index[name].read_bytes()) for name in order]
    return gzip.compress(cpio(entries), compresslevel=9, mtime=0)
