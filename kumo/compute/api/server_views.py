"""How Nova shows a server (``views/servers.py``), per microversion and caller.

:class:`ServerViewer` holds what does not change between the servers of one
response (microversion, base URL, what the caller may see) and renders each
server from its row and its :class:`Extras`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from kumo.common.api import Authz, service_base
from kumo.common.microversion import Version, request_version
from kumo.compute import states
from kumo.compute.db.instances import Instance
from kumo.compute.policies import servers as policy
from kumo.compute.service.server_extras import Extras

V = Version
API_PATH = "/v2.1"
#: Statuses that show ``progress`` / ``fault`` (Nova's view builder).
PROGRESS_STATUSES = ("ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING")
FAULT_STATUSES = ("ERROR", "DELETED")


def isotime(value: dt.datetime | None) -> str | None:
    """Nova's ``utils.isotime``: ``2012-08-20T21:11:09Z``."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def naive_time(value: dt.datetime | None) -> str | None:
    """``OS-SRV-USG`` times: naive UTC with microseconds (``2012-08-20T21:11:09.000000``)."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S.%f")


def host_id(host: str | None, project_id: str) -> str:
    """Nova's obfuscated ``hostId``: sha224 of project id plus host; "" with no host."""
    if not host:
        return ""
    return hashlib.sha224((project_id + host).encode()).hexdigest()


def server_links(base: str, uuid: str) -> list[dict[str, str]]:
    """A server's self and bookmark links."""
    return [
        {"rel": "self", "href": f"{base}{API_PATH}/servers/{uuid}"},
        {"rel": "bookmark", "href": f"{base}/servers/{uuid}"},
    ]


def status_of(instance: Instance) -> str:
    """The API status; DELETED for a deleted row whatever its states say."""
    if instance.deleted:
        return "DELETED"
    return states.status_of(instance.vm_state, instance.task_state)


def instance_name(instance: Instance) -> str:
    """``OS-EXT-SRV-ATTR:instance_name`` (Nova's ``instance-%08x`` template, from the uuid)."""
    return f"instance-{instance.uuid[:8]}"


@dataclass
class ServerViewer:
    """Renders servers for one request."""

    version: Version
    base: str
    is_admin: bool
    show_extended: bool
    show_host_status: bool
    show_extra_specs: bool

    @classmethod
    def for_request(cls, request: Request, authz: Authz) -> ServerViewer:
        """The viewer for this request's microversion and caller."""
        own = {"project_id": authz.ctx.project_id}
        version = request_version(request)
        return cls(
            version=version,
            base=service_base(request),
            is_admin=authz.allows(own, rule="context_is_admin"),
            show_extended=authz.allows(own, rule=policy.EXTENDED_ATTRIBUTES),
            show_host_status=authz.allows(own, rule=policy.SERVERS % "show:host_status"),
            show_extra_specs=version >= V(2, 47)
            and authz.allows(own, rule=policy.SERVERS % "show:flavor-extra-specs"),
        )

    def basic(self, instance: Instance) -> dict[str, Any]:
        """The summary of ``GET /servers``."""
        return {
            "id": instance.uuid,
            "name": instance.display_name,
            "links": server_links(self.base, instance.uuid),
        }

    def addresses(self, instance: Instance, extended: bool = True) -> dict[str, Any]:
        """Addresses by network label (hidden while building, as Nova does)."""
        if instance.vm_state == states.BUILDING:
            return {}
        out: dict[str, Any] = {}
        for label, entries in (instance.network_info or {}).items():
            items = []
            for e in entries:
                item: dict[str, Any] = {"version": e.get("version", 4), "addr": e.get("addr", "")}
                if extended:
                    item["OS-EXT-IPS:type"] = e.get("OS-EXT-IPS:type", "fixed")
                    item["OS-EXT-IPS-MAC:mac_addr"] = e.get("OS-EXT-IPS-MAC:mac_addr", "")
                items.append(item)
            out[label] = items
        return out

    def image(self, instance: Instance) -> dict[str, Any] | str:
        """The image as a bookmark link, or "" for a volume-backed server."""
        if not instance.image_ref:
            return ""
        image_id = instance.image_ref.rstrip("/").rsplit("/", 1)[-1]
        image: dict[str, Any] = {
            "id": image_id,
            "links": [{"rel": "bookmark", "href": f"{self.base}/images/{image_id}"}],
        }
        if self.version >= V(2, 98):
            image["properties"] = dict((instance.system_metadata or {}).get("image_properties", {}))
        return image

    def flavor(self, instance: Instance) -> dict[str, Any]:
        """A flavor link (<2.47) or the embedded flavor (≥2.47)."""
        flavor = instance.flavor or {}
        if not flavor:
            return {}
        if self.version < V(2, 47):
            flavor_id = str(flavor.get("flavorid", instance.flavor_id))
            return {
                "id": flavor_id,
                "links": [{"rel": "bookmark", "href": f"{self.base}/flavors/{flavor_id}"}],
            }
        out: dict[str, Any] = {
            "vcpus": flavor.get("vcpus", instance.vcpus),
            "ram": flavor.get("memory_mb", instance.memory_mb),
            "disk": flavor.get("root_gb", instance.root_gb),
            "ephemeral": flavor.get("ephemeral_gb", instance.ephemeral_gb),
            "swap": flavor.get("swap", 0),
            "original_name": flavor.get("name", ""),
        }
        if self.show_extra_specs:
            out["extra_specs"] = dict(flavor.get("extra_specs") or {})
        return out

    def fault(self, extras: Extras) -> dict[str, Any] | None:
        """The newest fault; details of a 500 only for admins (Nova)."""
        fault = extras.fault
        if fault is None:
            return None
        out: dict[str, Any] = {
            "code": fault.code,
            "created": isotime(fault.created_at),
            "message": fault.message,
        }
        if fault.details and (self.is_admin or fault.code != 500):
            out["details"] = fault.details
        return out

    def show(
        self,
        instance: Instance,
        extras: Extras,
        *,
        in_list: bool = False,
        full: bool = True,
        show_keypair: bool | None = None,
    ) -> dict[str, Any]:
        """The server (``GET /servers/{id}`` and each item of ``/servers/detail``).

        ``full=False`` is the reduced view of update and rebuild responses below
        2.75 (no extension attributes; ``key_name`` per ``show_keypair``).
        """
        if self.version >= V(2, 75):
            full = True
        keypair = full if show_keypair is None else (show_keypair or full)
        status = status_of(instance)
        server: dict[str, Any] = {
            "id": instance.uuid,
            "name": instance.display_name,
            "status": status,
            "tenant_id": instance.project_id,
            "user_id": instance.user_id,
            "metadata": dict(extras.metadata),
            "hostId": host_id(instance.host, instance.project_id),
            "image": self.image(instance),
            "flavor": self.flavor(instance),
            "created": isotime(instance.created_at),
            "updated": isotime(instance.updated_at),
            "addresses": self.addresses(instance, extended=full),
            "accessIPv4": instance.access_ip_v4 or "",
            "accessIPv6": instance.access_ip_v6 or "",
            "links": server_links(self.base, instance.uuid),
            "OS-DCF:diskConfig": "AUTO" if instance.auto_disk_config else "MANUAL",
        }
        if status in FAULT_STATUSES and (fault := self.fault(extras)) is not None:
            server["fault"] = fault
        if status in PROGRESS_STATUSES:
            server["progress"] = instance.progress or 0
        if keypair:
            server["key_name"] = instance.key_name
        if full:
            self._extensions(server, instance, extras)
        self._microversion_fields(server, instance, extras, in_list=in_list, full=full)
        return server

    def _extensions(self, server: dict[str, Any], instance: Instance, extras: Extras) -> None:
        v = self.version
        server["OS-EXT-AZ:availability_zone"] = instance.availability_zone or ""
        server["config_drive"] = instance.config_drive or ""
        server["OS-SRV-USG:launched_at"] = naive_time(instance.launched_at)
        server["OS-SRV-USG:terminated_at"] = naive_time(instance.terminated_at)
        if not instance.deleted and instance.security_groups:
            # Nova leaves the key out when the server has no group (tempest
            # test_remove_server_all_security_groups asserts it is absent).
            server["security_groups"] = [{"name": n} for n in instance.security_groups]
        if self.show_extended:
            server["OS-EXT-SRV-ATTR:host"] = instance.host
            server["OS-EXT-SRV-ATTR:instance_name"] = instance_name(instance)
            server["OS-EXT-SRV-ATTR:hypervisor_hostname"] = instance.node
            if v >= V(2, 3):
                server["OS-EXT-SRV-ATTR:hostname"] = instance.hostname
                server["OS-EXT-SRV-ATTR:kernel_id"] = ""
                server["OS-EXT-SRV-ATTR:launch_index"] = instance.launch_index
                server["OS-EXT-SRV-ATTR:ramdisk_id"] = ""
                server["OS-EXT-SRV-ATTR:reservation_id"] = instance.reservation_id
                server["OS-EXT-SRV-ATTR:root_device_name"] = instance.root_device_name
                server["OS-EXT-SRV-ATTR:user_data"] = instance.user_data
        server["OS-EXT-STS:task_state"] = instance.task_state
        server["OS-EXT-STS:vm_state"] = instance.vm_state
        server["OS-EXT-STS:power_state"] = instance.power_state
        volumes: list[dict[str, Any]] = []
        for bdm in extras.volumes:
            item: dict[str, Any] = {"id": bdm.volume_id}
            if v >= V(2, 3):
                item["delete_on_termination"] = bdm.delete_on_termination
            volumes.append(item)
        server["os-extended-volumes:volumes_attached"] = volumes
        if v >= V(2, 16) and self.show_host_status:
            server["host_status"] = extras.host_status

    def _microversion_fields(
        self,
        server: dict[str, Any],
        instance: Instance,
        extras: Extras,
        *,
        in_list: bool,
        full: bool,
    ) -> None:
        v = self.version
        if v >= V(2, 9):
            server["locked"] = bool(instance.locked)
        if v >= V(2, 19):
            server["description"] = instance.display_description
        if v >= V(2, 26):
            server["tags"] = list(extras.tags)
        if v >= V(2, 63):
            server["trusted_image_certificates"] = instance.trusted_certs
        if v >= V(2, 71) and not in_list:
            server["server_groups"] = list(extras.server_groups)
        if v >= V(2, 73):
            server["locked_reason"] = instance.locked_reason
        if v >= V(2, 90) and not (self.show_extended and full):
            server["OS-EXT-SRV-ATTR:hostname"] = instance.hostname
        if v >= V(2, 96) and full:
            server["pinned_availability_zone"] = instance.pinned_availability_zone
        if v >= V(2, 100):
            server["scheduler_hints"] = dict(instance.scheduler_hints or {})
