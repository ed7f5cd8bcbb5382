"""Quotas as Cinder keeps them: per project, on volumes, snapshots and
gigabytes (volumes plus snapshots), each also per volume type
(`volumes_<type>`...), plus a per-volume size limit. -1 is unlimited.

Usage is counted from the tables inside the same write transaction that adds
the volume, with the project locked, so concurrent creates cannot overshoot.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.config import VolumeConfig
from pocketstack.core import exceptions as exc
from pocketstack.volume import store

PROJECT_RESOURCES = ("volumes", "snapshots", "gigabytes", "backups", "backup_gigabytes",
                     "groups", "per_volume_gigabytes")
TYPED_RESOURCES = ("volumes", "snapshots", "gigabytes")


def defaults(cfg: VolumeConfig, type_names: list[str]) -> dict[str, int]:
    values = {r: getattr(cfg, f"quota_{r}") for r in PROJECT_RESOURCES}
    for name in type_names:
        for r in TYPED_RESOURCES:
            values[f"{r}_{name}"] = -1
    return values


class VolumeLimitExceeded(exc.OverQuota):
    pass


def _refuse(resource: str, limit: int, requested: int, used: int) -> exc.OverQuota:
    base, _, type_name = resource.partition("_")
    if base == "gigabytes":
        return VolumeLimitExceeded(
            f"VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed "
            f"{resource} quota. Requested {requested}G, quota is {limit}G and {used}G has been "
            f"consumed.", headers={"Retry-After": "0"})
    kind = {"volumes": "VolumeLimitExceeded", "snapshots": "SnapshotLimitExceeded"}[base]
    noun = "volumes" if base == "volumes" else "snapshots"
    return VolumeLimitExceeded(
        f"{kind}: Maximum number of {noun} allowed ({limit}) exceeded for quota '{resource}'.",
        headers={"Retry-After": "0"})


async def check(s: AsyncSession, cfg: VolumeConfig, project_id: str, type_name: str,
                deltas: dict[str, int]) -> None:
    """Raise OverQuota (413) unless `deltas` ({"volumes": 1, "gigabytes": 2}) fit."""
    await store.lock_project(s, project_id)
    limits = defaults(cfg, [type_name]) | await store.limits(s, project_id)
    used = await store.usage(s, project_id)
    for resource, delta in deltas.items():
        if delta <= 0:
            continue
        for key in (resource, f"{resource}_{type_name}"):
            limit = limits.get(key, -1)
            if limit >= 0 and used.get(key, 0) + delta > limit:
                raise _refuse(key, limit, delta, used.get(key, 0))


def check_size(cfg: VolumeConfig, limits: dict[str, int], size: int) -> None:
    limit = limits.get("per_volume_gigabytes", cfg.quota_per_volume_gigabytes)
    if limit >= 0 and size > limit:
        raise VolumeLimitExceeded(f"VolumeSizeExceedsLimit: Requested volume size {size}G is "
                                  f"larger than maximum allowed limit {limit}G.",
                                  headers={"Retry-After": "0"})
