"""`pocketstack demo` with real VMs: the guest comes up on the console, the trace has
every step, and the demo leaves no domain or state directory behind."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from pocketstack import testimage
from tests.e2e.test_cloud_vm import domains
from tests.functional.conftest import DEFAULT_ENV, ROOT, die_with_parent


def test_the_demo_boots_a_real_vm(libvirtd, test_image):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "POCKETSTACK_"))}
    env.update(DEFAULT_ENV, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "pocketstack.cli.main", "demo", "--driver",
                           "libvirt"], env=env, capture_output=True, text=True, timeout=600,
                          preexec_fn=die_with_parent)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "real VMs: the libvirt driver" in output
    assert re.search(r"image testvm \S+: active", output)
    assert "network agent linuxbridge" in output
    assert re.search(rf"^\s+{testimage.MARKER} ip=10\.0\.0\.\d+$", output, re.M), output
    assert "all 28 steps recorded" in output
    state = Path(re.search(r"state in (\S+), log in", output).group(1).rstrip(","))
    server_id = re.search(r"server demo-vm (\S+): ACTIVE", output).group(1)
    assert not state.exists()
    assert server_id not in domains()
