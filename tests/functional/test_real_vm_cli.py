"""A real VM through the whole cloud: `pocketstack up` with the libvirt driver, driven
by the `openstack` CLI: the first-start image is the test VM, it boots under qemu,
its console log shows it came up, and deleting it leaves nothing on the host."""

import time

import pytest

from pocketstack import config as configuration
from pocketstack import testimage
from pocketstack.compute.virt.libvirt import daemon

BOOT_TIMEOUT = 180  # under TCG on a loaded 2-core machine


@pytest.fixture
def libvirtd():
    """libvirtd for the cloud (set up before it, so stopped after it) and a warm image."""
    testimage.ensure_built(configuration.load().cache_dir)
    lease = daemon.ensure_running()
    yield
    if lease:
        lease.stop()


def test_boot_a_real_vm_with_the_cli(libvirtd, make_cloud):
    cloud = make_cloud(env={"POCKETSTACK_COMPUTE_DRIVER": "libvirt",
                            "POCKETSTACK_LIBVIRT_SHUTDOWN_TIMEOUT": "20"})
    server = cloud.openstack("server", "create", "--image", "cirros",
                             "--flavor", "m1.tiny", "--network", "private", "--wait", "vm1")
    assert server["status"] == "ACTIVE"
    instance_dir = cloud.state_dir / "instances" / server["id"]
    assert (instance_dir / "domain.xml").exists()
    deadline = time.monotonic() + BOOT_TIMEOUT
    while testimage.MARKER not in (log := cloud.openstack_text("console", "log", "show", "vm1")):
        assert time.monotonic() < deadline, f"no marker on the console:\n{log[-2000:]}"
        time.sleep(3)
    hypervisors = cloud.openstack("hypervisor", "list", cloud="pocketstack-admin")
    assert hypervisors[0]["Hypervisor Type"] in ("QEMU", "KVM")
    cloud.openstack("server", "delete", "--wait", "vm1")
    assert not instance_dir.exists()
