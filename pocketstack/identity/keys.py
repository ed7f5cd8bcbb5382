"""The Fernet key repository, laid out as Keystone's: files named by index in
one directory; `0` is the staged key (next to become primary), the highest
index is the primary (it encrypts), the others are secondary (they only
decrypt). `rotate` promotes the staged key, stages a new one and drops the
oldest beyond `max_active` keys, so tokens issued before a rotation stay valid.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet


class KeyRepository:
    def __init__(self, directory: Path, max_active: int = 3):
        self.directory = directory
        self.max_active = max_active

    def _indexes(self) -> list[int]:
        if not self.directory.is_dir():
            return []
        return sorted(int(p.name) for p in self.directory.iterdir() if p.name.isdigit())

    def _write(self, index: int, key: bytes) -> None:
        tmp = self.directory / f".{index}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
        os.replace(tmp, self.directory / str(index))

    def ensure(self) -> None:
        """Create the repository with a staged and a primary key if it has none."""
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        if not self._indexes():
            self._write(0, Fernet.generate_key())
            self._write(1, Fernet.generate_key())

    def rotate(self) -> int:
        """Staged becomes primary, a new key is staged; returns the new primary's index."""
        self.ensure()
        indexes = self._indexes()
        new_primary = max(indexes) + 1
        os.replace(self.directory / "0", self.directory / str(new_primary))
        self._write(0, Fernet.generate_key())
        for old in [i for i in indexes if i != 0][: max(0, len(indexes) + 1 - self.max_active)]:
            (self.directory / str(old)).unlink()
        return new_primary

    def version(self) -> float:
        """Changes whenever the keys do (the directory's mtime)."""
        return self.directory.stat().st_mtime_ns

    def fernet(self) -> MultiFernet:
        """Primary first (it encrypts), then the others (newest first), staged last."""
        order = sorted(self._indexes(), reverse=True)
        order = [i for i in order if i != 0] + [0]
        keys = [Fernet((self.directory / str(i)).read_bytes().strip()) for i in order]
        return MultiFernet(keys)


def repository(cfg) -> KeyRepository:  # noqa: ANN001 - a pocketstack Config
    """The repository of a cloud: `fernet-keys/` in its state directory."""
    return KeyRepository(cfg.state_dir / "fernet-keys", cfg.identity.max_active_keys)
