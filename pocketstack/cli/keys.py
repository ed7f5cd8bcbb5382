"""`pocketstack keys rotate`: rotate identity's Fernet keys (staged -> primary,
a new staged key, the oldest dropped past identity.max_active_keys). A running
cloud picks the new keys up within a second; tokens issued before stay valid
until their key is dropped."""

from __future__ import annotations

import argparse
from pathlib import Path

from pocketstack import config as configuration


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="keys_command", required=True)
    rotate = sub.add_parser("rotate", help="rotate the Fernet token keys")
    rotate.add_argument("--state-dir", type=Path, help="the cloud's state directory")


def run(args: argparse.Namespace) -> int:
    from pocketstack.identity.keys import repository

    cfg = configuration.load(state_dir=args.state_dir)
    repo = repository(cfg)
    primary = repo.rotate()
    print(f"rotated the keys in {repo.directory}: key {primary} is now primary")
    return 0
