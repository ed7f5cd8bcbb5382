"""Fixtures shared by unit and functional tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pocketstack.testing.rabbitmq import RabbitBroker


@pytest.fixture(scope="session")
def rabbit_broker() -> Iterator[RabbitBroker]:
    """A throwaway RabbitMQ node for the session (pocketstack.testing.rabbitmq)."""
    if not RabbitBroker.available():
        pytest.fail("rabbitmq-server is not installed: scripts/install-debs.sh rabbitmq-server")
    broker = RabbitBroker.start()
    try:
        yield broker
    finally:
        broker.stop()
