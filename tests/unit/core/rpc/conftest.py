"""The RPC contract runs on every transport: `rpc` is parametrized over them.

RabbitMQ is a real node (`rabbit_broker`, tests/conftest.py), started once
per test session on free loopback ports and stopped by PID at the end.
"""

from __future__ import annotations

import pytest

from pocketstack.core.rpc import RPC, Codec, LocalTransport
from pocketstack.core.rpc.rabbit import RabbitTransport


def make_transport(name: str, request: pytest.FixtureRequest, **options):
    if name == "local":
        return LocalTransport()
    broker = request.getfixturevalue("rabbit_broker")
    return RabbitTransport(broker.url, heartbeat=options.pop("heartbeat", 10),
                           max_backoff=options.pop("max_backoff", 0.5), **options)


@pytest.fixture(params=["local", pytest.param("rabbit", marks=pytest.mark.rabbit)])
def transport_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def rpc(transport_name: str, request: pytest.FixtureRequest):
    transport = make_transport(transport_name, request)
    if isinstance(transport, RabbitTransport):
        await transport.connect()
    rpc = RPC(transport, timeout=5.0, codec=Codec(64 * 1024))
    yield rpc
    await rpc.close()
