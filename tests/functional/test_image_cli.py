"""The image service against a live pocketstack, driven by the real
`openstack` CLI (the issue's walk) and openstacksdk (the rest)."""

from __future__ import annotations

import hashlib
import subprocess
import time
from pathlib import Path

import pytest


def qemu_img(*args: str) -> None:
    subprocess.run(["qemu-img", "create", "-q", *args], check=True)


@pytest.fixture
def admin_project(cloud) -> str:
    return cloud.openstack("project", "show", "admin", cloud="pocketstack-admin")["id"]


def test_first_start_made_a_public_cirros(cloud):
    images = cloud.openstack("image", "list", "--public")
    cirros = [i for i in images if i["Name"].startswith("cirros")]
    assert len(cirros) == 1 and cirros[0]["Status"] == "active"


def test_image_walk_with_the_cli(cloud, tmp_path: Path, admin_project):
    source, out = tmp_path / "disk.qcow2", tmp_path / "out.qcow2"
    qemu_img("-f", "qcow2", str(source), "16M")
    created = cloud.openstack("image", "create", "--file", str(source), "--disk-format",
                              "qcow2", "--container-format", "bare", "walk-test")
    image_id = created["id"]
    assert created["status"] == "active" and created["size"] == source.stat().st_size
    assert created["checksum"] == hashlib.md5(source.read_bytes()).hexdigest()
    assert created["virtual_size"] == 16 << 20

    assert "walk-test" in [i["Name"] for i in cloud.openstack("image", "list")]
    shown = cloud.openstack("image", "show", "walk-test")
    assert shown["id"] == image_id and shown["visibility"] == "shared"

    cloud.openstack("image", "save", "--file", str(out), "walk-test", json_output=False)
    assert out.read_bytes() == source.read_bytes()

    cloud.openstack("image", "set", "--property", "k=v", "walk-test")
    cloud.openstack("image", "set", "--tag", "t", "walk-test")
    conn = cloud.sdk("pocketstack")
    shown = conn.image.get_image(image_id)
    assert shown.properties["k"] == "v" and shown.tags == ["t"]

    member = cloud.openstack("image", "add", "project", "walk-test", admin_project,
                             json_output=True)
    assert member["status"] == "pending"
    members = cloud.openstack("image", "member", "list", "walk-test")
    assert [(m["Member ID"], m["Status"]) for m in members] == [(admin_project, "pending")]
    cloud.openstack("image", "set", "--accept", image_id, cloud="pocketstack-admin")
    assert conn.image.get_member(admin_project, image_id).status == "accepted"

    cloud.openstack("image", "set", "--deactivate", "walk-test")
    assert conn.image.get_image(image_id).status == "deactivated"
    cloud.openstack("image", "delete", "walk-test")
    assert conn.image.find_image(image_id) is None


def test_hostile_qcow2_is_refused(cloud, tmp_path: Path):
    hostile = tmp_path / "hostile.qcow2"
    qemu_img("-f", "qcow2", "-b", "/etc/passwd", "-F", "raw", str(hostile))
    with pytest.raises(AssertionError) as failed:
        cloud.openstack("image", "create", "--file", str(hostile), "--disk-format", "qcow2",
                        "--container-format", "bare", "hostile")
    assert "backing file" in failed.value.stderr + failed.value.stdout
    assert "hostile" not in [i["Name"] for i in cloud.openstack("image", "list")]


def test_demo_cannot_see_another_projects_private_image(cloud):
    admin = cloud.sdk("pocketstack-admin")
    secret = admin.image.create_image(name="admins-secret", disk_format="raw",
                                      container_format="bare", visibility="private",
                                      data=b"secret", allow_duplicates=True,
                                      validate_checksum=False)
    try:
        with pytest.raises(AssertionError):
            cloud.openstack("image", "show", secret.id)
        demo = cloud.sdk("pocketstack")
        assert secret.id not in [i.id for i in demo.image.images()]
        with cloud.http(token=cloud.token("pocketstack", fresh=True)) as http:
            assert http.get(f"/image/v2/images/{secret.id}/file").status_code == 404
    finally:
        admin.image.delete_image(secret.id)


def test_sdk_import_and_ranged_download(cloud):
    conn = cloud.sdk("pocketstack")
    data = bytes(range(256)) * 4096
    image = conn.image.create_image(name="imported", disk_format="raw",
                                    container_format="bare", data=data, use_import=True,
                                    allow_duplicates=True, validate_checksum=False)
    try:
        for _ in range(100):
            image = conn.image.get_image(image.id)
            if image.status == "active":
                break
            time.sleep(0.05)
        assert image.status == "active" and image.size == len(data)
        assert image.hash_value == hashlib.sha512(data).hexdigest()
        assert conn.image.download_image(image).content == data
        with cloud.http(token=cloud.token("pocketstack", fresh=True)) as http:
            r = http.get(f"/image/v2/images/{image.id}/file", headers={"Range": "bytes=256-511"})
            assert r.status_code == 206 and r.content == bytes(range(256))
    finally:
        conn.image.delete_image(image.id)
