"""`pocketstack serve SERVICE...`: some of the cloud's services in this process.

This is the scaled-out shape. Every process reads the same kind of configuration:

  transport_url   the message bus every process shares (rabbit://...), so the
                  compute API, scheduler, conductor and agents of different
                  processes reach each other; `local://` only works inside one
  database_url    postgresql+asyncpg://.../{service} (one database each)
  service_urls    where the services of the other processes answer, e.g.
                  POCKETSTACK_SERVICE_URLS='{"identity": "http://ctl:8080/identity"}'
  auth.service_password
                  the service user's password when identity runs elsewhere
                  (the identity host keeps it in STATE_DIR/identity-passwords.json)

The process hosting identity registers every service's endpoint in the
catalog from `service_urls` (or its own base URL) and writes clouds.yaml,
as `pocketstack up` does.
"""

from __future__ import annotations

import argparse
import time

from pocketstack import config as configuration
from pocketstack.cli import serving
from pocketstack.services import SERVICES

ROLES = ("api", "scheduler", "conductor", "agent")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = __doc__.split("\n", 1)[1]
    p.add_argument("services", nargs="+", metavar="SERVICE",
                   choices=[s.name for s in SERVICES],
                   help="services to run here: " + ", ".join(s.name for s in SERVICES))
    p.add_argument("--compute-roles", metavar="ROLE,...",
                   help="parts of compute to run: " + ",".join(ROLES) + " (default all; "
                   "`agent` alone is a compute host: no API, no database)")
    serving.add_arguments(p)


def run(args: argparse.Namespace) -> int:
    from pocketstack.host import HostError, ServiceHost

    began = time.monotonic()
    cfg = serving.load_config(args)
    if args.compute_roles:
        roles = [r.strip() for r in args.compute_roles.split(",") if r.strip()]
        unknown = sorted(set(roles) - set(ROLES))
        if unknown or not roles:
            raise SystemExit(f"pocketstack serve: unknown compute role {', '.join(unknown)}; "
                             f"known: {', '.join(ROLES)}")
        cfg.compute.roles = roles
    try:
        host = ServiceHost(cfg, list(dict.fromkeys(args.services)))
    except HostError as e:
        raise SystemExit(f"pocketstack serve: {e}") from None
    return serving.run(cfg, host, lambda h: _started(h, cfg, time.monotonic() - began))


def _started(host, cfg: configuration.Config, took: float) -> None:  # noqa: ANN001
    if host.hosts_identity:
        from pocketstack.cli.up import write_clouds_yaml

        write_clouds_yaml(host, cfg)
    names = ", ".join(f"{spec.name} ({spec.prefix if unit.app is not None else 'no API'})"
                      for spec, unit in host.units)
    print(f"pocketstack serving {names} at {cfg.base_url} in {took:.2f}s", flush=True)
