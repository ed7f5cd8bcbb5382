"""What a dead agent left is removed by the next agent; a live one's is kept."""

import subprocess
import uuid
from pathlib import Path

import pytest

from pocketstack.network.agent.linuxbridge import ip, registry


@pytest.fixture
def dead_pid() -> int:
    dead = subprocess.Popen(["true"])
    dead.wait()
    return dead.pid


async def test_a_dead_agents_bridges_go_and_a_live_ones_stay(tmp_path: Path, dead_pid: int):
    gone, kept = str(uuid.uuid4()), str(uuid.uuid4())
    try:
        for net in (gone, kept):
            await ip.ensure_bridge(ip.bridge_name(net))
        registry.Record("deadagent", pid=dead_pid, networks=[gone]).save(tmp_path)
        registry.Record("liveagent", networks=[kept]).save(tmp_path)
        registry.Record("myself", pid=dead_pid, networks=[kept]).save(tmp_path)
        assert await registry.reap_stale("myself", tmp_path) == ["deadagent"]
        assert not ip.link_exists(ip.bridge_name(gone))
        assert ip.link_exists(ip.bridge_name(kept))
        assert registry.load("deadagent", tmp_path) is None
        assert registry.load("liveagent", tmp_path).networks == [kept]
    finally:
        for net in (gone, kept):
            await ip.delete_link(ip.bridge_name(net))
