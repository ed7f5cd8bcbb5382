"""The RPC contract runs on every transport: `rpc` is parametrized over them."""

from __future__ import annotations

import pytest

from pocketstack.core.rpc import RPC, Codec, LocalTransport


@pytest.fixture(params=["local"])
def transport_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def rpc(transport_name: str):
    rpc = RPC(LocalTransport(), timeout=5.0, codec=Codec(64 * 1024))
    yield rpc
    await rpc.close()
