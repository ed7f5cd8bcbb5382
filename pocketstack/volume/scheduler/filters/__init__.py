"""Scheduler filters: each a pure function of the request and one host's
state, saying whether the host passes and, if not, why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pocketstack.volume.messages import ScheduleRequest
from pocketstack.volume.scheduler.host_state import HostState


@dataclass(frozen=True)
class Result:
    passed: bool
    reason: str = ""


PASS = Result(True)


class Filter(Protocol):
    name: str

    def __call__(self, request: ScheduleRequest, host: HostState) -> Result: ...
