"""`pocketstack demo` on the fake driver: every step shown, the launch trace with all
28 steps, and nothing left behind at the end, also when interrupted with Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.functional.conftest import DEFAULT_ENV, ROOT, die_with_parent


def _demo(*args: str, tmp_path: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "POCKETSTACK_"))}
    env.update(DEFAULT_ENV, PYTHONPATH=str(ROOT), HOME=str(tmp_path))
    return subprocess.Popen([sys.executable, "-m", "pocketstack.cli.main", "demo", *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, cwd=tmp_path, preexec_fn=die_with_parent)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _cloud_of(output: str) -> tuple[Path, int]:
    state = re.search(r"state in (\S+), log in", output).group(1)
    pid = int(re.search(r"\(pid (\d+)\)", output).group(1))
    return Path(state.rstrip(",")), pid


def test_the_demo_launches_traces_and_cleans_up(tmp_path):
    proc = _demo("--driver", "fake", tmp_path=tmp_path)
    output, _ = proc.communicate(timeout=180)
    assert proc.returncode == 0, output
    steps = [line[4:] for line in output.splitlines() if line.startswith("==> ")]
    assert [s.split(" ")[0] for s in steps] == [
        "Starting", "The", "Creating", "Booting", "Waiting", "The", "Cleaning"]
    assert "the fake driver, as asked" in output
    assert "$ openstack --os-cloud pocketstack server create --flavor m1.nano" in output
    assert re.search(r"server demo-vm \S+: ACTIVE in [\d.]+s, address 10\.0\.0\.\d+", output)
    assert "login: demo-vm is up" in output
    assert "all 28 steps recorded" in output
    for step in ("1-2", "6-7", "10", "14-18", "22-24", "28"):
        assert re.search(rf"^\s+{re.escape(step)}\s+\S+", output, re.M), step
    state, pid = _cloud_of(output)
    assert _gone(pid) and not state.exists()
    assert not (tmp_path / ".config" / "openstack" / "clouds.yaml").exists()  # user's untouched


def test_ctrl_c_still_cleans_up(tmp_path):
    proc = _demo("--driver", "fake", tmp_path=tmp_path)
    seen = ""
    deadline = time.monotonic() + 120
    while "==> Booting" not in seen:
        assert time.monotonic() < deadline and proc.poll() is None, seen
        seen += proc.stdout.readline()
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=120)
    output = seen + rest
    assert proc.returncode == 130, output
    assert "interrupted" in output and "==> Cleaning up" in output
    state, pid = _cloud_of(output)
    assert _gone(pid) and not state.exists()


def test_help_explains(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pocketstack.cli.main", "demo", "--help"],
                          capture_output=True, text=True, env=dict(os.environ,
                                                                   PYTHONPATH=str(ROOT)))
    assert done.returncode == 0
    for words in ("test VM image", "launch trace", "--keep", "fake driver", "Ctrl-C"):
        assert words in done.stdout, words
