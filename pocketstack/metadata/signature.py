"""The proxy's signature: an HMAC-SHA256, with the secret the proxy and the
metadata service share, of the network id and the guest's address it vouches
for (as Neutron's agent signs X-Instance-ID with metadata_proxy_shared_secret)."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pocketstack.config import Config

NETWORK_HEADER = "X-Neutron-Network-ID"
FORWARDED_HEADER = "X-Forwarded-For"
SIGNATURE_HEADER = "X-Metadata-Signature"


def sign(secret: str, network_id: str, address: str) -> str:
    message = f"{network_id}\n{address}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def valid(secret: str, network_id: str, address: str, signature: str | None) -> bool:
    return bool(signature) and hmac.compare_digest(sign(secret, network_id, address),
                                                   signature or "")


def headers(secret: str, network_id: str, address: str) -> dict[str, str]:
    """What the proxy adds to a guest's request."""
    return {FORWARDED_HEADER: address, NETWORK_HEADER: network_id,
            SIGNATURE_HEADER: sign(secret, network_id, address)}


def shared_secret(cfg: Config) -> str:
    """The configured secret, or the one generated on first use and kept (0600) in the
    state dir. A cloud spread over hosts must configure it: each host has its own dir."""
    if cfg.metadata.shared_secret:
        return cfg.metadata.shared_secret
    path = cfg.path("metadata", "shared_secret")
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.touch(mode=0o600)
        tmp.write_text(secrets.token_hex(32))
        try:
            os.link(tmp, path)  # atomic: the first writer wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
