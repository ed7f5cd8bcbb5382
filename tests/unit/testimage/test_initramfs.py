import subprocess
from pathlib import Path

import pytest

from pocketstack.testimage import initramfs


def _ko(root: Path, rel: str, depends: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x7fELF junk\0license=GPL\0depends=" + depends.encode() + b"\0name=x\0")


def test_load_order_puts_dependencies_first(tmp_path):
    _ko(tmp_path, "virtio/virtio_ring.ko", "")
    _ko(tmp_path, "virtio/virtio.ko", "virtio_ring")
    _ko(tmp_path, "net/failover.ko", "")
    _ko(tmp_path, "net/net_failover.ko", "failover")
    _ko(tmp_path, "net/virtio_net.ko", "virtio_ring,virtio,net_failover")
    _ko(tmp_path, "char/virtio-rng.ko", "virtio,virtio_ring")
    index = initramfs.module_index(tmp_path)
    order = initramfs.load_order(index, ("virtio_net", "virtio_rng"))
    assert order == ["virtio_ring", "virtio", "failover", "net_failover", "virtio_net",
                     "virtio-rng"]


def test_load_order_names_a_missing_module(tmp_path):
    _ko(tmp_path, "virtio_blk.ko", "virtio")
    with pytest.raises(FileNotFoundError, match="virtio"):
        initramfs.load_order(initramfs.module_index(tmp_path), ("virtio_blk",))


def test_cpio_is_read_by_busybox(tmp_path):
    archive = initramfs.cpio([
        initramfs.directory("bin"),
        initramfs.chardev("dev/console", 5, 1),
        initramfs.file("bin/hello", b"hi there\n", 0o755),
        initramfs.file("odd", b"123"),
    ])
    listing = subprocess.run(["busybox", "cpio", "-tv"], input=archive, capture_output=True,
                             check=True).stdout.decode()
    lines = listing.splitlines()
    assert [line.split()[-1] for line in lines] == ["bin", "dev/console", "bin/hello", "odd"]
    assert lines[1].startswith("crw-------")
    header = archive[archive.index(b"dev/console") - 110:]
    assert (int(header[78:86], 16), int(header[86:94], 16)) == (5, 1)  # rdev major, minor
    assert lines[2].startswith("-rwxr-xr-x") and " 9 " in lines[2]
    subprocess.run(["busybox", "cpio", "-id"], input=archive, cwd=tmp_path, check=True,
                   capture_output=True)
    assert (tmp_path / "bin/hello").read_bytes() == b"hi there\n"
    assert (tmp_path / "odd").read_bytes() == b"123"


def test_the_kvm_probe_answer_is_remembered_for_this_boot(tmp_path, monkeypatch):
    import json

    from pocketstack.testimage import qemu

    kernel = tmp_path / "vmlinuz"
    kernel.write_bytes(b"")
    calls = []
    monkeypatch.setattr(qemu, "_probe", lambda *a: calls.append(a) or False)
    assert qemu.kvm_works.__wrapped__(kernel, kernel, "console=ttyS0") is False
    assert qemu.kvm_works.__wrapped__(kernel, kernel, "console=ttyS0") is False
    assert len(calls) == 1
    memo = json.loads((tmp_path / "kvm-probe.json").read_text())
    memo["identity"]["boot_id"] = "another boot"
    (tmp_path / "kvm-probe.json").write_text(json.dumps(memo))
    qemu.kvm_works.__wrapped__(kernel, kernel, "console=ttyS0")
    assert len(calls) == 2
