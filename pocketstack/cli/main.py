"""`pocketstack`: the command line. Each subcommand lives in its own module."""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help). Each module has `add_arguments(parser)`
# and `run(args) -> int`.
COMMANDS: dict[str, tuple[str, str]] = {
    "up": ("pocketstack.cli.up", "start every service in one process (the all-in-one)"),
    "serve": ("pocketstack.cli.serve", "start some services in this process (scaled out)"),
    "keys": ("pocketstack.cli.keys", "identity's token keys: rotate them"),
    "dev": ("pocketstack.cli.dev", "developer tools: new database migrations"),
    "trace": ("pocketstack.cli.trace", "show a server's launch as the numbered steps, timed"),
    "demo": ("pocketstack.cli.demo",
             "launch one server on a new cloud and show each step (real VMs if it can)"),
    "build-test-image": ("pocketstack.cli.build_test_image",
                         "build the small test VM image from Debian packages (cached)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pocketstack",
        description="An OpenStack-compatible cloud that starts in seconds. "
        "Start it with `pocketstack up`, then use `openstack --os-cloud pocketstack ...`.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(module).add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return importlib.import_module(args._module).run(args) or 0


if __name__ == "__main__":
    sys.exit(main())
