"""The first-start test image: a tiny, valid, empty qcow2 named like
DevStack's cirros, public and owned by the admin project, so a new user can
boot on the fake driver at once. (No downloads exist here; a real bootable
image replaces it when the libvirt driver is used.)"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from typing import Any

from pocketstack.core.context import RequestContext
from pocketstack.image.service import ImageService
from pocketstack.image.store import ListQuery
from pocketstack.image.transfer import Transfers

NAME = "cirros"  # what `openstack server create --image cirros` names
VIRTUAL_SIZE = 112 << 20
CLUSTER_BITS = 16


def empty_qcow2(virtual_size: int = VIRTUAL_SIZE, cluster_bits: int = CLUSTER_BITS) -> bytes:
    """A qcow2 (v3) with no data clusters: header, refcount table, refcount
    block and L1 table, one cluster each; `qemu-img check` finds it clean."""
    cluster = 1 << cluster_bits
    per_l2 = cluster // 8 * cluster
    l1_size = max(1, -(-virtual_size // per_l2))
    header = struct.pack(
        ">4sIQIIQIIQQIIQQQQII",
        b"QFI\xfb", 3, 0, 0, cluster_bits, virtual_size, 0,
        l1_size, 3 * cluster,  # L1 table in cluster 3
        1 * cluster, 1,  # refcount table in cluster 1, one cluster long
        0, 0,  # no snapshots
        0, 0, 0,  # incompatible, compatible, autoclear features
        4, 104,  # refcount_order (16-bit refcounts), header length
    ) + struct.pack(">II", 0, 0)  # end of header extensions
    refcount_table = struct.pack(">Q", 2 * cluster)
    refcount_block = struct.pack(">4H", 1, 1, 1, 1)
    l1_table = b"\0" * (8 * l1_size)
    return b"".join(part.ljust(cluster, b"\0") for part in
                    (header, refcount_table, refcount_block, l1_table))


async def bootable_disk(config: Any) -> bytes | None:
    """With the libvirt driver, the test VM's disk (pocketstack.testimage, built from
    Debian packages and cached) so the first image really boots; else None."""
    if config.compute.driver != "libvirt":
        return None
    from pocketstack import testimage

    image = await asyncio.to_thread(testimage.ensure_built, config.cache_dir)
    return await asyncio.to_thread(image.qcow2.read_bytes)


async def ensure_cirros(images: ImageService, transfers: Transfers,
                        admin: RequestContext, content: bytes | None = None) -> None:
    """Create the image unless one of that name exists (idempotent); its data is
    `content`, by default an empty qcow2."""
    existing = await images.list(admin, ListQuery(exact={"name": [NAME]}, limit=1))
    if existing:
        return
    image = await images.create(admin, {
        "name": NAME, "disk_format": "qcow2", "container_format": "bare",
        "visibility": "public", "min_disk": 0, "min_ram": 0,
        "os_distro": "cirros", "os_version": "0.6.2", "hw_disk_bus": "virtio",
    })

    async def data() -> AsyncIterator[bytes]:
        yield content if content is not None else empty_qcow2()

    await transfers.upload(admin, image.id, data(), None)
