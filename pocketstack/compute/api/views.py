"""The server body, as Nova shows it at each microversion."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from fastapi import Request

from pocketstack.compute.api.deps import links
from pocketstack.compute.api.microversions import at_least
from pocketstack.compute.models import BlockDeviceMapping, Instance, InstanceFault
from pocketstack.core.context import RequestContext
from pocketstack.core.microversion import Version

STATUS = {"building": "BUILD", "active": "ACTIVE", "stopped": "SHUTOFF", "error": "ERROR",
          "deleted": "DELETED", "paused": "PAUSED", "suspended": "SUSPENDED",
          "soft-delete": "SOFT_DELETED", "shelved_offloaded": "SHELVED_OFFLOADED",
          "rescued": "RESCUE", "resized": "VERIFY_RESIZE"}
TASK_STATUS = {"rebooting": "REBOOT", "reboot_pending": "REBOOT", "reboot_started": "REBOOT",
               "rebooting_hard": "HARD_REBOOT", "reboot_pending_hard": "HARD_REBOOT",
               "reboot_started_hard": "HARD_REBOOT"}


def status(inst: Instance) -> str:
    if inst.vm_state == "active" and inst.task_state in TASK_STATUS:
        return TASK_STATUS[inst.task_state]
    return STATUS.get(inst.vm_state, "UNKNOWN")


def iso(t: datetime | None) -> str | None:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t else None


def host_id(inst: Instance) -> str:
    if not inst.host:
        return ""
    return hashlib.sha224((inst.project_id + inst.host).encode()).hexdigest()


def addresses(inst: Instance) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for vif in inst.network_info or []:
        for ip in vif["ips"]:
            out.setdefault(vif["network_name"], []).append({
                "version": ip["version"], "addr": ip["address"],
                "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": vif["mac"]})
    return out


def flavor_view(request: Request, inst: Instance, mv: Version) -> dict[str, Any]:
    f = inst.flavor
    if not at_least(mv, "2.47"):
        return {"id": f["id"], "links": [links(request, "flavors", f["id"])[1]]}
    return {"vcpus": f["vcpus"], "ram": f["ram"], "disk": f["disk"],
            "ephemeral": f.get("ephemeral", 0), "swap": f.get("swap", 0),
            "original_name": f["name"], "extra_specs": f.get("extra_specs", {})}


def image_view(request: Request, inst: Instance, mv: Version) -> dict[str, Any] | str:
    if not inst.image_ref:
        return ""
    body: dict[str, Any] = {"id": inst.image_ref,
                            "links": [links(request, "images", inst.image_ref)[1]]}
    if at_least(mv, "2.98"):
        skip = {"id", "name", "status", "size", "checksum", "owner", "created_at",
                "updated_at", "visibility", "protected", "file", "schema", "self",
                "os_hash_algo", "os_hash_value", "virtual_size", "min_ram", "min_disk",
                "disk_format", "container_format", "direct_url", "os_hidden", "stores"}
        body["properties"] = {k: v for k, v in (inst.system_metadata or {}).items()
                              if k not in skip}
    return body


def fault_view(fault: InstanceFault, ctx: RequestContext) -> dict[str, Any]:
    body = {"code": fault.code, "created": iso(fault.created_at), "message": fault.message}
    if ctx.is_admin or fault.code != 500:
        body["details"] = fault.details
    return body


def server(request: Request, inst: Instance, ctx: RequestContext, mv: Version,
           fault: InstanceFault | None = None,
           bdms: list[BlockDeviceMapping] = ()) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": inst.id, "name": inst.name, "status": status(inst),
        "tenant_id": inst.project_id, "user_id": inst.user_id,
        "metadata": dict(inst.metadata_ or {}), "hostId": host_id(inst),
        "image": image_view(request, inst, mv), "flavor": flavor_view(request, inst, mv),
        "created": iso(inst.created_at), "updated": iso(inst.updated_at),
        "addresses": addresses(inst), "accessIPv4": inst.access_ip_v4 or "",
        "accessIPv6": inst.access_ip_v6 or "", "links": links(request, "servers", inst.id),
        "OS-DCF:diskConfig": "MANUAL", "progress": 0,
        "OS-EXT-AZ:availability_zone": inst.availability_zone or "",
        "config_drive": inst.config_drive, "key_name": inst.key_name,
        "OS-SRV-USG:launched_at": iso(inst.launched_at).replace("Z", ".000000")
        if inst.launched_at else None,
        "OS-SRV-USG:terminated_at": iso(inst.terminated_at),
        "OS-EXT-STS:task_state": inst.task_state, "OS-EXT-STS:vm_state": inst.vm_state,
        "OS-EXT-STS:power_state": inst.power_state,
        "os-extended-volumes:volumes_attached": [
            {"id": b.volume_id, **({"delete_on_termination": b.delete_on_termination}
                                   if at_least(mv, "2.3") else {})}
            for b in bdms if b.volume_id],
    }
    if inst.network_info:
        body["security_groups"] = [{"name": n} for n in inst.security_groups or ["default"]]
    if fault is not None and inst.vm_state in ("error", "deleted"):
        body["fault"] = fault_view(fault, ctx)
    _extended(body, inst, ctx, mv)
    return body


def _extended(body: dict[str, Any], inst: Instance, ctx: RequestContext, mv: Version) -> None:
    if ctx.is_admin:
        body.update({"OS-EXT-SRV-ATTR:host": inst.host,
                     "OS-EXT-SRV-ATTR:instance_name": "instance-" + inst.id[:8],
                     "OS-EXT-SRV-ATTR:hypervisor_hostname": inst.node})
        if at_least(mv, "2.3"):
            body.update({"OS-EXT-SRV-ATTR:reservation_id": inst.reservation_id,
                         "OS-EXT-SRV-ATTR:launch_index": inst.launch_index,
                         "OS-EXT-SRV-ATTR:hostname": inst.hostname,
                         "OS-EXT-SRV-ATTR:kernel_id": "", "OS-EXT-SRV-ATTR:ramdisk_id": "",
                         "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
                         "OS-EXT-SRV-ATTR:user_data": inst.user_data})
        if at_least(mv, "2.16"):
            body["host_status"] = "UP" if inst.host else ""
    elif at_least(mv, "2.90"):
        body["OS-EXT-SRV-ATTR:hostname"] = inst.hostname
    if at_least(mv, "2.9"):
        body["locked"] = inst.locked
    if at_least(mv, "2.73"):
        body["locked_reason"] = None
    if at_least(mv, "2.19"):
        body["description"] = inst.description
    if at_least(mv, "2.26"):
        body["tags"] = []
    if at_least(mv, "2.63"):
        body["trusted_image_certificates"] = None
    if at_least(mv, "2.96"):
        body["pinned_availability_zone"] = (inst.request_spec or {}).get("availability_zone")
    if at_least(mv, "2.100"):
        body["scheduler_hints"] = (inst.request_spec or {}).get("hints") or {}
