"""What the volume scheduler knows of one backend host: its last capacity
report, plus what it has placed there since that report."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from pocketstack.volume.messages import CapacityReport


@dataclass
class HostState:
    report: CapacityReport
    received: float = field(default_factory=time.monotonic)
    placed_gb: float = 0.0  # placed since the report, not yet in it

    @property
    def host(self) -> str:
        return self.report.host

    @property
    def allocated_gb(self) -> float:
        return self.report.allocated_gb + self.placed_gb

    @property
    def reserved_gb(self) -> float:
        return self.report.total_gb * self.report.reserved_percentage / 100

    @property
    def free_gb(self) -> float:
        """Physical free space left for new volumes (thick placements use it up)."""
        used = 0.0 if self.report.thin else self.placed_gb
        return self.report.free_gb - used - self.reserved_gb

    @property
    def virtual_free_gb(self) -> float:
        """What can still be provisioned: over-subscribed when thin."""
        if not self.report.thin:
            return self.free_gb
        limit = (self.report.total_gb - self.reserved_gb) * self.report.max_over_subscription_ratio
        ratio = self.report.max_over_subscription_ratio
        return min(limit - self.allocated_gb, self.free_gb * ratio)

    def place(self, size_gb: float) -> None:
        self.placed_gb += size_gb

    def refresh(self, report: CapacityReport) -> None:
        self.report, self.received, self.placed_gb = report, time.monotonic(), 0.0
