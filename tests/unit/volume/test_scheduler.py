"""Scheduler filters and weighers: pure functions of a request and host states."""

from __future__ import annotations

from pocketstack.volume.messages import CapacityReport, ScheduleRequest, VolumeTypeInfo
from pocketstack.volume.scheduler.host_state import HostState
from pocketstack.volume.scheduler.manager import FILTERS, WEIGHERS, select_host


def host(name: str, *, total: float = 100, free: float = 100, allocated: float = 0,
         thin: bool = False, zone: str = "nova", ratio: float = 20.0, reserved: float = 0,
         backend: str = "file") -> HostState:
    return HostState(CapacityReport(
        host=f"{name}@{backend}", pool=backend, availability_zone=zone, backend_name=backend,
        kind=backend, total_gb=total, free_gb=free, allocated_gb=allocated, thin=thin,
        max_over_subscription_ratio=ratio, reserved_percentage=reserved,
        capabilities={"volume_backend_name": backend, "thin_provisioning_support": thin}))


def request(size: int = 1, zone: str | None = None, specs: dict | None = None,
            on: str | None = None) -> ScheduleRequest:
    return ScheduleRequest(volume_id="v", size=size, availability_zone=zone, host=on,
                           volume_type=VolumeTypeInfo(id="t", name="t",
                                                      extra_specs=specs or {}))


def pick(req: ScheduleRequest, *hosts: HostState) -> tuple[str | None, list[str]]:
    chosen, why = select_host(req, list(hosts), [f() for f in FILTERS.values()],
                              [w() for w in WEIGHERS.values()])
    return (chosen.host if chosen else None), why


def test_most_free_space_wins():
    assert pick(request(), host("a", free=10), host("b", free=50))[0] == "b@file"


def test_zone_type_and_required_host_filter_with_reasons():
    chosen, why = pick(request(zone="az2"), host("a"), host("b", zone="az2"))
    assert chosen == "b@file" and "a@file: AvailabilityZoneFilter: in zone nova" in why[0]
    chosen, why = pick(request(specs={"volume_backend_name": "lvm"}), host("a"))
    assert chosen is None and "CapabilitiesFilter" in why[0] and "lvm" in why[0]
    chosen, _ = pick(request(specs={"volume_backend_name": "lvm", "qos:x": "1"}),
                     host("a"), host("b", backend="lvm"))
    assert chosen == "b@lvm"
    chosen, _ = pick(request(specs={"capabilities:thin_provisioning_support": "<is> True"}),
                     host("a"), host("b", thin=True))
    assert chosen == "b@file"
    assert pick(request(on="a@file#file"), host("a", free=1), host("b"))[0] == "a@file"


def test_thick_capacity_and_reserved():
    chosen, why = pick(request(size=20), host("a", total=100, free=25, reserved=10))
    assert chosen is None and "15.0GB free left, 20GB requested" in why[0]


def test_thin_over_subscription():
    thin = host("a", total=10, free=9, allocated=150, thin=True, ratio=20)
    assert pick(request(size=50), thin)[0] == "a@file"  # 200 - 150 = 50 virtual left
    chosen, why = pick(request(size=51), thin)
    assert chosen is None and "virtual" in why[0]


def test_placements_count_until_the_next_report():
    h = host("a", total=10, free=10)
    h.place(8)
    assert pick(request(size=3), h)[0] is None
    h.refresh(h.report.model_copy(update={"free_gb": 10.0}))
    assert pick(request(size=3), h)[0] == "a@file"
