"""Choosing the transport from the configuration."""

from __future__ import annotations

import pytest

from pocketstack.config import load
from pocketstack.core.rpc import LocalTransport, Target, connect, transport_for


async def test_local_is_the_default_and_takes_its_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("POCKETSTACK_RPC_RESPONSE_TIMEOUT", "7.5")
    monkeypatch.setenv("POCKETSTACK_RPC_MAX_MESSAGE_SIZE", "2048")
    cfg = load(state_dir=tmp_path)
    assert cfg.transport_url == "local://"
    assert (cfg.rpc.service_down_time, cfg.rpc.response_timeout) == (60.0, 7.5)
    rpc = await connect(cfg)
    assert isinstance(rpc.transport, LocalTransport)
    assert (rpc.timeout, rpc.codec.max_size) == (7.5, 2048)
    await rpc.close()


def test_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="kafka"):
        transport_for("kafka://broker")


@pytest.mark.parametrize("address, target", [
    ("scheduler", Target("scheduler")),
    ("compute.host-1", Target("compute", "host-1")),
    ("compute.node1.example.org", Target("compute", "node1.example.org")),
    ("network-agent.h", Target("network-agent", "h")),
])
def test_targets_parse_from_addresses(address, target):
    assert Target.parse(address) == target
    assert str(target) == address


def test_bad_targets_are_refused():
    for bad in ("", "a b", "x/y"):
        with pytest.raises(ValueError):
            Target(bad)
    with pytest.raises(ValueError):
        Target("compute", "h", fanout=True)


def test_rabbit_urls_keep_credentials_and_vhost_and_get_a_heartbeat():
    from pocketstack.core.rpc.rabbit import amqp_url

    url = amqp_url("rabbit://nova:s3cret@mq.example:5673/openstack", heartbeat=15)
    assert (url.scheme, url.user, url.password, url.host, url.port, url.path) == (
        "amqp", "nova", "s3cret", "mq.example", 5673, "/openstack")
    assert url.query["heartbeat"] == "15"
    with pytest.raises(ValueError):
        amqp_url("http://x", heartbeat=1)
