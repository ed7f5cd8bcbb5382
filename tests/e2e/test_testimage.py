"""The test image boots with plain qemu and brings its network up."""

import time

from pocketstack import testimage
from pocketstack.testimage import qemu

BOOT_TIMEOUT = 120  # 4-8 s on a quiet 2-core machine under TCG, far more when loaded


def test_image_is_a_small_qcow2(test_image):
    import json
    import subprocess

    info = json.loads(subprocess.run(
        ["qemu-img", "info", "-f", "qcow2", "--output=json", str(test_image.qcow2)],
        capture_output=True, check=True).stdout)
    assert info["format"] == "qcow2" and "backing-filename" not in info
    assert test_image.qcow2.stat().st_size < 20 * 1024 * 1024
    assert test_image.kernel.stat().st_size > 1024 * 1024


def test_boots_to_the_marker_with_user_mode_network(test_image, tmp_path):
    began = time.monotonic()
    proc, log = qemu.boot(test_image, tmp_path, qemu.accel(test_image))
    try:
        line = qemu.wait_for_line(log, testimage.MARKER, BOOT_TIMEOUT, proc)
        assert line == f"{testimage.MARKER} ip=10.0.2.15"  # qemu's user-mode DHCP
        # user-mode networking forwards 169.254.169.254 to the host: "none" unless a
        # test's stub metadata service (guest_network) listens there
        qemu.wait_for_line(log, "POCKETSTACK-TESTVM-METADATA", 30, proc)
        assert qemu.wait_for_line(log, "POCKETSTACK-TESTVM-DISKS", 10, proc).split()[1:] == [
            "vda"]
    finally:
        qemu.stop(proc)
    print(f"booted in {time.monotonic() - began:.1f}s")
