"""Scheduler weighers: each returns a raw number per host (more is better);
`normalise` scales them to [0, 1] in one place before they are summed."""

from __future__ import annotations

from typing import Protocol

from pocketstack.volume.messages import ScheduleRequest
from pocketstack.volume.scheduler.host_state import HostState


class Weigher(Protocol):
    name: str
    multiplier: float

    def __call__(self, request: ScheduleRequest, host: HostState) -> float: ...


def normalise(values: list[float]) -> list[float]:
    lo, hi = min(values, default=0.0), max(values, default=0.0)
    if hi == lo:
        return [0.0 for _ in values]
    return [(v - lo) / (hi - lo) for v in values]
