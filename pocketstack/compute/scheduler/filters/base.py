"""The filter contract: a verdict with a reason, never a bare boolean."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from pocketstack.compute.scheduler.host_state import HostState, HostStates
    from pocketstack.compute.scheduler.messages import RequestSpec


class Verdict(NamedTuple):
    passed: bool
    reason: str = ""


PASS = Verdict(True)


def fail(reason: str) -> Verdict:
    return Verdict(False, reason)


class Filter(Protocol):
    name: str

    def __init__(self, states: HostStates) -> None: ...

    def check(self, spec: RequestSpec, host: HostState) -> Verdict: ...

    # Optional: `def active(self, spec) -> bool`, False when the filter cannot remove
    # any host for this request (no server group, no hint...): selection skips it.
