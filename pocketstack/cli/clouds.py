"""Writing the clouds `pocketstack` and `pocketstack-admin` into clouds.yaml,
keeping every other cloud in the file as it was."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml


def cloud_entry(auth_url: str, username: str, password: str, project: str,
                region: str) -> dict[str, Any]:
    return {
        "auth": {
            "auth_url": auth_url,
            "username": username,
            "password": password,
            "project_name": project,
            "user_domain_id": "default",
            "project_domain_id": "default",
        },
        "region_name": region,
        "interface": "public",
        "identity_api_version": 3,
    }


def write_clouds(path: Path, clouds: dict[str, dict[str, Any]]) -> None:
    """Add or replace `clouds` in the clouds.yaml at `path`, atomically, mode 0600."""
    data: dict[str, Any] = {}
    if path.exists():
        loaded = yaml.safe_load(path.read_text()) or {}
        if isinstance(loaded, dict):
            data = loaded
    data.setdefault("clouds", {})
    if not isinstance(data["clouds"], dict):
        data["clouds"] = {}
    data["clouds"].update(clouds)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".clouds-", suffix=".yaml")
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(data, f, default_flow_style=False, sort_keys=False)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
