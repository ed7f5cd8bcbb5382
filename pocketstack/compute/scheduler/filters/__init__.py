"""Scheduler filters: one small class per file, chosen by name from FILTERS.

A filter is a pure function of the request and one host's state: `check`
returns PASS, or a Verdict whose reason says why the host cannot take it.
"""

from __future__ import annotations

from pocketstack.compute.scheduler.filters.aggregate_metadata import AggregateMetadataFilter
from pocketstack.compute.scheduler.filters.availability_zone import AvailabilityZoneFilter
from pocketstack.compute.scheduler.filters.base import PASS, Filter, Verdict
from pocketstack.compute.scheduler.filters.compute import ComputeFilter
from pocketstack.compute.scheduler.filters.different_host import DifferentHostFilter
from pocketstack.compute.scheduler.filters.disk import DiskFilter
from pocketstack.compute.scheduler.filters.image_properties import ImagePropertiesFilter
from pocketstack.compute.scheduler.filters.ram import RamFilter
from pocketstack.compute.scheduler.filters.same_host import SameHostFilter
from pocketstack.compute.scheduler.filters.server_group_affinity import (
    ServerGroupAffinityFilter,
)
from pocketstack.compute.scheduler.filters.server_group_anti_affinity import (
    ServerGroupAntiAffinityFilter,
)
from pocketstack.compute.scheduler.filters.vcpu import VcpuFilter

FILTERS: dict[str, type[Filter]] = {
    "compute": ComputeFilter,
    "availability_zone": AvailabilityZoneFilter,
    "ram": RamFilter,
    "vcpu": VcpuFilter,
    "disk": DiskFilter,
    "image_properties": ImagePropertiesFilter,
    "server_group_affinity": ServerGroupAffinityFilter,
    "server_group_anti_affinity": ServerGroupAntiAffinityFilter,
    "same_host": SameHostFilter,
    "different_host": DifferentHostFilter,
    "aggregate_metadata": AggregateMetadataFilter,
}

__all__ = ["FILTERS", "PASS", "Filter", "Verdict"]
