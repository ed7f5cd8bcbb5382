"""Volume backends, chosen by name from a literal registry (`volume.backend`)."""

from __future__ import annotations

from pocketstack.config import Config
from pocketstack.volume.backends.base import Backend


def build_backend(cfg: Config) -> Backend:
    v = cfg.volume
    if v.backend == "file":
        from pocketstack.volume.backends.file import FileBackend

        return FileBackend(v.file_dir or cfg.state_dir / "volumes", v.file_format,
                           v.file_capacity_gb)
    if v.backend == "lvm":
        from pocketstack.volume.backends.lvm import LVMBackend

        return LVMBackend(v.lvm_volume_group, activation=v.lvm_activation)
    if v.backend == "fake":
        from pocketstack.volume.backends.fake import FakeBackend

        return FakeBackend(v.fake_capacity_gb)
    raise ValueError(f"unknown volume backend {v.backend!r}: use file, lvm or fake")
