"""Addressing: a Target names where a message goes, as a value.

`Target("compute")` is every server of the topic (one of them takes each
message); `Target("compute", server="host-1")` is that host's server only;
`Target("compute", fanout=True)` is every server of the topic at once.
A string `"compute.host-1"` parses to the second form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
_SERVER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-:]*$")


@dataclass(frozen=True, slots=True)
class Target:
    topic: str
    server: str | None = None
    fanout: bool = False

    def __post_init__(self) -> None:
        if not _NAME.match(self.topic):
            raise ValueError(f"invalid RPC topic {self.topic!r}")
        if self.server is not None and not _SERVER.match(self.server):
            raise ValueError(f"invalid RPC server name {self.server!r}")
        if self.fanout and self.server is not None:
            raise ValueError("a fanout target names a topic, not a server")

    @classmethod
    def parse(cls, address: str | Target) -> Target:
        """`"scheduler"` or `"compute.host-1"` (the host may contain dots)."""
        if isinstance(address, Target):
            return address
        topic, dot, server = address.partition(".")
        return cls(topic, server if dot else None)

    def prepare(self, **changes: object) -> Target:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def queue(self) -> str:
        """The queue a message to this target lands in (fanout: the exchange)."""
        if self.fanout:
            return f"{self.topic}_fanout"
        return f"{self.topic}.{self.server}" if self.server else self.topic

    def __str__(self) -> str:
        return self.queue
