"""The proxy's signature: an HMAC-SHA256, with the secret the proxy and the
metadata service share, of the network id and the guest's address it vouches
for (as Neutron's agent signs X-Instance-ID with metadata_proxy_shared_secret)."""

from __future__ import annotations

import hashlib
import hmac

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
