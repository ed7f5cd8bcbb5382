"""`pocketstack build-test-image`: build (or find in the cache) the test VM image.

Prints where the qcow2 disk, kernel and initrd are; with --boot, also boots
the disk once with plain qemu and prints how long the guest took to come up.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

from pocketstack import config as configuration


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cache-dir", type=Path,
                   help="where built images are kept (default ~/.cache/pocketstack)")
    p.add_argument("--boot", action="store_true",
                   help="boot it once with qemu (user-mode network) and wait for the guest")


def run(args: argparse.Namespace) -> int:
    from pocketstack import testimage
    from pocketstack.testimage import debian, qemu

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    cfg = configuration.load(cache_dir=args.cache_dir)
    try:
        image = testimage.ensure_built(cfg.cache_dir.expanduser())
    except debian.MissingPackage as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"disk:    {image.qcow2}")
    print(f"kernel:  {image.kernel}")
    print(f"initrd:  {image.initrd}")
    print(f"cmdline: {image.cmdline}")
    if args.boot:
        accel = qemu.accel(image)
        with tempfile.TemporaryDirectory() as tmp:
            began = time.monotonic()
            proc, log = qemu.boot(image, Path(tmp), accel)
            try:
                line = qemu.wait_for_line(log, testimage.MARKER, 120, proc)
            finally:
                qemu.stop(proc)
        print(f"booted ({accel}) in {time.monotonic() - began:.1f}s: {line}")
    return 0
