"""The whole cloud on RabbitMQ: `pocketstack up` with POCKETSTACK_TRANSPORT_URL
pointing at a real broker; its services register, heartbeat and talk over it."""

from __future__ import annotations

import asyncio
import time

import aio_pika
import pytest

from pocketstack.core.rpc.rabbit import amqp_url

pytestmark = pytest.mark.rabbit


async def consumers(url: str, queue: str) -> int:
    conn = await aio_pika.connect(amqp_url(url, heartbeat=0))
    try:
        channel = await conn.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.consumer_count
    finally:
        await conn.close()


def test_the_cloud_runs_on_rabbitmq(make_cloud, rabbit_broker):
    cloud = make_cloud(env={"POCKETSTACK_TRANSPORT_URL": rabbit_broker.url})
    for queue in ("scheduler", "conductor", "compute.fake-1"):
        assert asyncio.run(consumers(rabbit_broker.url, queue)) >= 1, queue

    services = cloud.openstack("compute", "service", "list", cloud="pocketstack-admin")
    by_binary = {s["Binary"]: s for s in services}
    assert {"nova-scheduler", "nova-conductor", "nova-compute"} <= set(by_binary)
    assert all(s["State"] == "up" and s["Status"] == "enabled" for s in services), services

    volume = cloud.openstack("volume", "create", "--size", "1", "over-rabbit")
    deadline = time.monotonic() + 30
    while (status := cloud.openstack("volume", "show", volume["id"])["status"]) != "available":
        assert status == "creating" and time.monotonic() < deadline, status
        time.sleep(0.5)
