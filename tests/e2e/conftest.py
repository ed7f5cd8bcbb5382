"""Fixtures for tests that boot real guests (one at a time: the CPU is shared)."""

import pytest

from pocketstack import config as configuration
from pocketstack import testimage
from pocketstack.compute.virt.libvirt import daemon
from pocketstack.testing.guestnet import GuestNetwork


@pytest.fixture(scope="session")
def test_image() -> testimage.TestImage:
    """The test VM image, built once per package versions into the cache dir."""
    return testimage.ensure_built(configuration.load().cache_dir)


@pytest.fixture(scope="session")
def libvirtd():
    """qemu:///system answering: the running libvirtd, or one started (and stopped) here."""
    started = daemon.ensure_running()
    yield "qemu:///system"
    if started:
        started.stop()


@pytest.fixture(scope="session")
def guest_network():
    """A bridge with DHCP (option 121 to the metadata address) and a stub metadata service."""
    net = GuestNetwork.start()
    yield net
    net.stop()
