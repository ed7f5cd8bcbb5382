"""Compute's operator views with the real openstack CLI against a live all-in-one
with three fake hosts: hypervisors, compute services, zones, default flavors."""

from __future__ import annotations

import pytest

from tests.functional.conftest import CommandFailed


def test_operator_views(cloud3):
    c = cloud3
    admin = "pocketstack-admin"
    hypervisors = c.openstack("hypervisor", "list", cloud=admin)
    assert sorted(h["Hypervisor Hostname"] for h in hypervisors) == ["fake-1", "fake-2",
                                                                      "fake-3"]
    services = c.openstack("compute", "service", "list", cloud=admin)
    assert {s["Binary"] for s in services} == {"nova-scheduler", "nova-conductor",
                                               "nova-compute"}
    assert all(s["State"] == "up" for s in services)
    zones = c.openstack("availability", "zone", "list", "--compute")
    assert [z["Zone Name"] for z in zones] == ["nova"]
    with pytest.raises(CommandFailed):
        c.openstack("hypervisor", "list")
    flavors = {f["Name"] for f in c.openstack("flavor", "list")}
    assert {"m1.tiny", "m1.small", "m1.medium", "m1.large", "m1.xlarge", "m1.nano"} <= flavors
