"""The config drive carries the metadata service's documents (content.py), in
either format, read back from the image it wrote."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess

import pytest

from pocketstack.compute.virt.driver import GuestSpec, Nic
from pocketstack.compute.virt.libvirt import configdrive
from pocketstack.metadata import content


def spec() -> GuestSpec:
    return GuestSpec(
        instance_id="5d0e6f1a-0000-4000-8000-000000000001", name="cd", hostname="cd",
        vcpus=1, memory_mb=64, root_gb=1, image={"id": "img-1"}, config_drive=True,
        key_name="mykey", key_data="ssh-ed25519 AAAA me", project_id="p1",
        user_data=base64.b64encode(b"#!/bin/sh\necho hi\n").decode(), metadata={"a": "b"},
        availability_zone="az9", flavor_name="m1.tiny",
        nics=[Nic("0123abcd-4567-89ef-0123-456789abcdef", "fa:16:3e:00:00:01", "n1",
                  ["10.0.0.5"], 1450)])


def same(path: str, got: bytes, want: bytes) -> bool:
    if not path.endswith("meta_data.json"):
        return got == want
    a, b = json.loads(got), json.loads(want)
    a.pop("random_seed", None), b.pop("random_seed", None)
    return a == b


def run(*argv: str) -> str:
    done = subprocess.run(argv, capture_output=True, check=True)
    return (done.stdout + done.stderr).decode("utf-8", "replace")


def mtype(drive, path: str) -> bytes:
    return subprocess.run(["mtype", "-i", str(drive), "::" + path], capture_output=True,
                          check=True).stdout


def expected() -> dict[str, bytes]:
    return content.config_drive_files(configdrive.describe(spec()))


def test_description_names_the_key_and_keeps_the_nics():
    inst = configdrive.describe(spec())
    assert inst.key == content.KeyPair("mykey", "ssh-ed25519 AAAA me")
    assert inst.availability_zone == "az9" and inst.user_data == b"#!/bin/sh\necho hi\n"
    (net,) = content.network_data(inst)["networks"]
    assert net["type"] == "ipv4_dhcp" and net["network_id"] == "n1"


async def test_vfat_drive_holds_every_document(tmp_path):
    drive = tmp_path / "disk.config"
    await configdrive.make(drive, spec(), "vfat")
    assert "CONFIG-2" in run("mlabel", "-s", "-i", str(drive), "::").upper()
    for path, want in expected().items():
        assert same(path, mtype(drive, path), want), path


@pytest.mark.skipif(configdrive.iso_writer() is None or not shutil.which("xorriso"),
                    reason="xorriso is not installed (deps/debian-test.txt lists it)")
async def test_iso9660_drive_holds_every_document(tmp_path):
    drive = tmp_path / "disk.config"
    await configdrive.make(drive, spec(), "iso9660")
    out = tmp_path / "out"
    run("xorriso", "-osirrox", "on", "-indev", str(drive), "-extract", "/", str(out))
    assert "config-2" in run("xorriso", "-indev", str(drive), "-pvd_info")
    for path, want in expected().items():
        assert same(path, (out / path).read_bytes(), want), path


async def test_unknown_format_and_bad_user_data_fail_cleanly(tmp_path):
    from pocketstack.compute.virt.driver import DriverError

    with pytest.raises(DriverError, match="unknown format"):
        await configdrive.make(tmp_path / "d", spec(), "ext4")
    bad = spec()
    bad.user_data = "not base64!!"
    with pytest.raises(DriverError, match="base64"):
        await configdrive.make(tmp_path / "d", bad, "vfat")
