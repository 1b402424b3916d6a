"""The compute agent (nova-compute): the bus endpoint of topic ``compute.<host>``.

It builds servers (booklet steps 13–28) and runs every other server action
through its virt driver. It never opens the database: instance data, state
changes, faults and instance-action events go through the conductor
(:class:`~kumo.compute.conductor.rpcapi.ConductorAPI`); images, ports and
Placement are reached over their HTTP APIs (the image and network calls carry
the user's token, as Nova's do).

A failed build is rolled back (guest destroyed, ports it created deleted,
Placement allocation freed) and then either handed back to the conductor for a
reschedule on another host or, when the failure is not the host's fault (a
missing image, an absent network service), put in ERROR with a readable fault.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import traceback as tb
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict
from typing import Any

from kumo.agents.compute.virt.driver import (
    CRASHED,
    NOSTATE,
    PAUSED,
    RUNNING,
    SHUTDOWN,
    SUSPENDED,
    GuestSpec,
    ImageUnusable,
    VirtDriver,
    VirtError,
)
from kumo.agents.compute.virt.qemu.metadata import sanitize_hostname
from kumo.common import errors
from kumo.common.bus import Bus, RemoteError
from kumo.common.clients.image import ImageClient
from kumo.common.clients.network import NetworkClient
from kumo.common.clients.placement import PlacementClient, host_inventory, provider_uuid
from kumo.common.config import Settings
from kumo.common.faults import fault_point
from kumo.compute import journey
from kumo.compute.conductor.rpcapi import ConductorAPI
from kumo.compute.rpcapi import compute_topic

log = logging.getLogger(__name__)

BINARY = "nova-compute"

# vm_states and task_states the agent sets (Nova's names).
ACTIVE, STOPPED, PAUSED_VM, SUSPENDED_VM = "active", "stopped", "paused", "suspended"
RESCUED, RESIZED, ERROR, DELETED = "rescued", "resized", "error", "deleted"
SHELVED, SHELVED_OFFLOADED = "shelved", "shelved_offloaded"


class BuildAbort(Exception):
    """The build cannot succeed on any host: no reschedule, the server goes to ERROR."""


class InstanceGone(Exception):
    """The server was deleted (or is being deleted) while the agent worked on it."""


def _is_gone(exc: BaseException) -> bool:
    if isinstance(exc, RemoteError):
        return exc.exc_type in ("NotFound", "InstanceNotFound") or (
            exc.exc_type == "Conflict" and "deleting" in exc.message
        )
    return False


def _user_token(context: dict[str, Any]) -> str | None:
    token = context.get("token")
    return str(token) if token else None


class ComputeManager:
    """One compute host: its driver, its registration and its bus endpoint."""

    def __init__(
        self,
        host: str,
        driver: VirtDriver,
        conductor: ConductorAPI,
        settings: Settings,
        *,
        placement: PlacementClient,
        image: ImageClient,
        network: NetworkClient,
        zone: str = "nova",
        bus: Bus | None = None,
        topic_prefix: str = "",
    ) -> None:
        self.host = host
        self.driver = driver
        self.conductor = conductor
        self.settings = settings
        self.placement = placement
        self.image = image
        self.network = network
        self.zone = zone
        self.bus = bus
        self.topic_prefix = topic_prefix
        self.rp_uuid = provider_uuid(host)
        self.registered = asyncio.Event()
        self._reported_inventory: dict[str, dict[str, Any]] | None = None
        #: Per-server locks with their holders and waiters (see :meth:`_serialized`).
        self._instance_locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}

    @asynccontextmanager
    async def _serialized(self, uuid: str) -> AsyncIterator[None]:
        """One build or action at a time per server, as Nova's ``synchronized(uuid)``.

        The host's messages may be handled concurrently (several bus consumers per
        host): builds and actions of different servers overlap, while a delete that
        arrives during its server's build still waits for the build, as it does with
        a single consumer. Reads (console output) take no lock.
        """
        lock, users = self._instance_locks.setdefault(uuid, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._instance_locks[uuid]

    # ----- host registration and periodic reports ---------------------------

    async def register(self) -> None:
        """Report the service and compute node, and the resource provider with its inventory."""
        await self.conductor.report_service(self.host, BINARY, self.zone)
        await self.report_resources()
        self.registered.set()

    async def init_host(self) -> None:
        """Let the driver re-adopt the guests an earlier agent left (Nova's ``init_host``).

        Guests still running stay as they are; guests that died meanwhile are found
        shut off and reported by the first :meth:`sync_power_states`; guests the
        host does not define are logged by the driver, never killed.
        """
        init = getattr(self.driver, "init_host", None)
        if init is None:
            return
        report = await init()
        log.info(
            "compute host %s: %d guest(s) re-adopted, %d found stopped, %d unknown",
            self.host,
            len(getattr(report, "adopted", [])),
            len(getattr(report, "stopped", [])),
            len(getattr(report, "unknown", [])),
        )

    async def sync_power_states(self) -> None:
        """Make the database's power state match the driver's (Nova's ``_sync_power_states``).

        A server that is ACTIVE in the database but whose guest is shut off (shut
        down from inside, or died while Kumo was down) becomes SHUTOFF. Servers with
        a task in progress are left to that task. A guest whose server no longer
        exists (deleted while this agent was down or dead, so nobody destroyed it)
        is destroyed: Nova's ``running_deleted_instance_action = reap``.
        """
        for uuid in await self.driver.list_instances():
            try:
                # The database first: a state read after the guest's cannot be older.
                view = await self.conductor.instance_view(uuid)
                info = await self.driver.get_info(uuid)
            except (VirtError, RemoteError) as exc:
                if isinstance(exc, RemoteError) and exc.exc_type.endswith("NotFound"):
                    log.warning("guest %s: its server is deleted; destroying the guest", uuid)
                    with suppress(VirtError):
                        await self.driver.destroy(uuid)
                    continue
                log.debug("power sync of %s skipped: %s", uuid, exc)
                continue
            if view.get("task_state") is not None or view.get("host") != self.host:
                continue
            vm_state = view.get("vm_state")
            if vm_state in (DELETED, ERROR, SHELVED_OFFLOADED):
                continue
            changes: dict[str, Any] = {}
            if view.get("power_state") != info.power_state:
                changes["power_state"] = info.power_state
            if vm_state == ACTIVE and info.power_state in (SHUTDOWN, CRASHED, NOSTATE):
                changes.update(vm_state=STOPPED, power_state=SHUTDOWN)
            if not changes:
                continue
            log.info(
                "instance %s: power state in the database %s, on the hypervisor %s; syncing",
                uuid,
                view.get("power_state"),
                info.power_state,
            )
            with suppress(RemoteError, InstanceGone):
                await self._set_state(
                    uuid, expected_task_state=None, expected_vm_state=vm_state, **changes
                )

    async def heartbeat(self) -> None:
        """Tell the conductor this host is alive (``os-services`` shows it up)."""
        await self.conductor.report_service(self.host, BINARY, self.zone)

    async def report_resources(self) -> None:
        """Report capacity and usage: the compute node record and Placement inventory."""
        res = self.driver.host_resources()
        vcpus_used = memory_used = disk_used = 0
        guests = await self.driver.list_instances()
        for uuid in guests:
            with suppress(VirtError):
                info = await self.driver.get_info(uuid)
                vcpus_used += info.vcpus
                memory_used += info.memory_mb
                disk_used += info.disk_gb
        await self.conductor.update_compute_node(
            host=self.host,
            hypervisor_hostname=res.hypervisor_hostname,
            vcpus=res.vcpus,
            memory_mb=res.memory_mb,
            local_gb=res.local_gb,
            vcpus_used=vcpus_used,
            memory_mb_used=memory_used,
            local_gb_used=disk_used,
            running_vms=len(guests),
            hypervisor_type=res.hypervisor_type,
            hypervisor_version=res.hypervisor_version,
            host_ip=res.host_ip,
            cpu_info=json.dumps(res.cpu_info),
        )
        s = self.settings
        inventory = host_inventory(
            res.vcpus,
            res.memory_mb,
            res.local_gb,
            cpu_ratio=s.cpu_allocation_ratio,
            ram_ratio=s.ram_allocation_ratio,
            disk_ratio=s.disk_allocation_ratio,
            reserved_memory_mb=s.reserved_host_memory_mb,
            reserved_disk_gb=s.reserved_host_disk_gb,
        )
        if inventory == self._reported_inventory:
            return  # unchanged: no Placement write (each one bumps the provider generation)
        await self.placement.ensure_provider(self.host, self.rp_uuid)
        await self.placement.set_inventory(self.rp_uuid, inventory)
        self._reported_inventory = inventory

    # ----- events ------------------------------------------------------------

    @asynccontextmanager
    async def _event(self, uuid: str, request_id: str, event: str) -> AsyncIterator[None]:
        await self.conductor.event_start(uuid, request_id, event, self.host)
        try:
            yield
        except BaseException as exc:
            with suppress(Exception):
                await self.conductor.event_finish(
                    uuid, request_id, event, "Error", traceback="".join(tb.format_exception(exc))
                )
            raise
        await self.conductor.event_finish(uuid, request_id, event)

    async def _set_state(self, uuid: str, **changes: Any) -> dict[str, Any]:
        try:
            return await self.conductor.set_state(uuid, **changes)
        except RemoteError as exc:
            if _is_gone(exc):
                raise InstanceGone(uuid) from exc
            raise

    # ----- build (booklet steps 13-28) ---------------------------------------

    async def build_and_run_instance(
        self,
        context: dict[str, Any],
        instance_uuid: str,
        request_id: str,
        attempt: int = 1,
        tried_hosts: list[str] | None = None,
    ) -> None:
        """Build the server the scheduler placed here; reschedule or ERROR on failure."""
        async with self._serialized(instance_uuid):
            await self._build_and_run_instance(
                context, instance_uuid, request_id, attempt, tried_hosts
            )

    async def _build_and_run_instance(
        self,
        context: dict[str, Any],
        instance_uuid: str,
        request_id: str,
        attempt: int,
        tried_hosts: list[str] | None,
    ) -> None:
        uuid = instance_uuid
        tried = [*(tried_hosts or []), self.host]
        ports: list[str] = []
        spawned = False
        # Each step boundary (finish one event, move the task_state, start the next
        # event) is one conductor call and one transaction.
        step = _Steps(self, uuid, request_id)
        try:
            await step.next("13")
            await step.next("14-17")
            view = await self._view(uuid)
            await step.next("18-21")
            image = await self._image_for(view, context)
            await step.next("22-24", task_state="networking", expected_task_state="scheduling")
            ports, network_info, preexisting, bound = await self._allocate_network(view, context)
            changes: dict[str, Any] = {}
            if network_info or preexisting:
                sysmeta = dict(view.get("system_metadata") or {})
                sysmeta["preexisting_ports"] = ",".join(preexisting)
                changes = {"network_info": network_info, "system_metadata": sysmeta}
            await step.next(
                "25-27",
                task_state="block_device_mapping",
                expected_task_state="networking",
                **changes,
            )
            self._check_volumes(view)
            await step.next("28", task_state="spawning", expected_task_state="block_device_mapping")
            # The ports just bound, as the network API answered the binding (no second
            # listing), in the order they were asked for: the first is the guest's eth0.
            guest_ports = [_guest_port(port) for port in bound] if changes else []
            await self.driver.spawn(self._guest(view, image, guest_ports))
            spawned = True
            await step.next(
                None,
                vm_state=ACTIVE,
                task_state=None,
                power_state=RUNNING,
                launched_on=self.host,
                expected_task_state="spawning",
            )
            log.info("built instance %s on %s", uuid, self.host)
        except InstanceGone:
            log.info("instance %s was deleted during its build on %s", uuid, self.host)
            await step.failed(None)
            await self._rollback(uuid, ports, spawned, free_allocation=True)
        except (BuildAbort, ImageUnusable) as exc:  # no host could build it: no reschedule
            await step.failed(exc)
            await self._rollback(uuid, ports, spawned, free_allocation=True)
            await self._fail(uuid, str(exc), "".join(tb.format_exception(exc)))
        except Exception as exc:
            log.warning("build of %s failed on %s: %s", uuid, self.host, exc)
            await step.failed(exc)
            await self._rollback(uuid, ports, spawned, free_allocation=True)
            reason = str(exc) or type(exc).__name__
            try:
                await self._set_state(uuid, task_state="scheduling")
            except InstanceGone:
                return
            except Exception:
                log.exception("could not reset %s for a reschedule", uuid)
            await self.conductor.reschedule(context, uuid, request_id, tried, attempt, reason)

    async def _view(self, uuid: str, *, building: bool = True) -> dict[str, Any]:
        try:
            view = await self.conductor.instance_view(uuid)
        except RemoteError as exc:
            if _is_gone(exc):
                raise InstanceGone(uuid) from exc
            raise
        if view.get("vm_state") == DELETED or (building and view.get("task_state") == "deleting"):
            raise InstanceGone(uuid)
        return view

    async def _image_for(self, view: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        image_ref = view.get("image_ref")
        if not image_ref:
            return {}  # boot from volume: no image
        try:
            image = await self.image.get_image(image_ref, user_token=_user_token(context))
        except errors.NotFound as exc:
            raise BuildAbort(f"Image {image_ref} could not be found.") from exc
        except errors.KumoError as exc:
            raise BuildAbort(f"Could not fetch image {image_ref}: {exc.message}") from exc
        if image.get("status") not in (None, "active"):
            raise BuildAbort(f"Image {image_ref} is not active.")
        return image

    async def _allocate_network(
        self, view: dict[str, Any], context: dict[str, Any]
    ) -> tuple[list[str], dict[str, Any], list[str], list[dict[str, Any]]]:
        """Ports for the server: (ports created, network_info, pre-existing ports bound,
        every port bound as the network API answered the binding)."""
        requested = view.get("requested_networks")
        if requested == "none":
            return [], {}, [], []
        explicit = isinstance(requested, list) and bool(requested)
        if not await self.network.available():
            if explicit:
                raise BuildAbort(
                    "Networks were requested but no network service is in the catalog."
                )
            return [], {}, [], []
        token = _user_token(context)
        wanted: list[dict[str, Any]]
        if explicit:
            assert isinstance(requested, list)
            wanted = [dict(r) for r in requested]
        else:
            try:
                networks = await self.network.list_networks(user_token=token)
            except errors.KumoError as exc:
                raise BuildAbort(f"Could not list networks: {exc.message}") from exc
            usable = [n for n in networks if not n.get("router:external")]
            if not usable:
                return [], {}, [], []  # nothing to attach to: boot without a port, as Nova
            if len(usable) > 1:
                raise BuildAbort(
                    "Multiple possible networks found, use a Network ID to be more specific."
                )
            wanted = [{"uuid": usable[0]["id"]}]
        created: list[str] = []
        preexisting: list[str] = []
        bound: list[dict[str, Any]] = []
        owner = f"compute:{view.get('availability_zone') or self.zone}"
        binding = {"device_id": view["uuid"], "device_owner": owner, "binding:host_id": self.host}
        group_ids = await self._security_group_ids(view, token)
        try:
            for item in wanted:
                if item.get("port"):
                    port = await self.network.update_port(str(item["port"]), binding)
                    preexisting.append(port["id"])
                else:
                    body: dict[str, Any] = {
                        "network_id": item["uuid"],
                        "device_id": view["uuid"],
                        "device_owner": owner,
                    }
                    if item.get("fixed_ip"):
                        body["fixed_ips"] = [{"ip_address": item["fixed_ip"]}]
                    if group_ids is not None:
                        body["security_groups"] = group_ids
                    port = await self.network.create_port(body, user_token=token)
                    created.append(port["id"])
                    port = await self.network.update_port(
                        port["id"], {"binding:host_id": self.host}
                    )
                bound.append(port)
            network_info: dict[str, list[dict[str, Any]]] = {}
            for port in bound:
                net = await self.network.get_network(port["network_id"])
                for fixed in port.get("fixed_ips", []):
                    addr = fixed.get("ip_address", "")
                    network_info.setdefault(net.get("name") or net["id"], []).append(
                        {
                            "addr": addr,
                            "version": 6 if ":" in addr else 4,
                            "OS-EXT-IPS:type": "fixed",
                            "OS-EXT-IPS-MAC:mac_addr": port.get("mac_address"),
                        }
                    )
        except errors.KumoError as exc:
            for port_id in created:
                with suppress(Exception):
                    await self.network.delete_port(port_id)
            raise BuildAbort(f"Network allocation failed: {exc.message}") from exc
        return created, network_info, preexisting, bound

    def _check_volumes(self, view: dict[str, Any]) -> None:
        volumes = [
            b
            for b in view.get("block_device_mappings") or []
            if b.get("destination_type") == "volume" or b.get("source_type") == "volume"
        ]
        if volumes:
            raise BuildAbort(
                "Block device mapping asks for volumes, but no volume service exists yet."
            )

    def _guest(
        self, view: dict[str, Any], image: dict[str, Any], ports: list[dict[str, Any]]
    ) -> GuestSpec:
        flavor = view.get("flavor") or {}
        name = view.get("display_name") or view["uuid"]
        return GuestSpec(
            uuid=view["uuid"],
            name=name,
            vcpus=int(flavor.get("vcpus", view.get("vcpus", 1))),
            memory_mb=int(flavor.get("memory_mb", view.get("memory_mb", 0))),
            root_gb=int(flavor.get("root_gb", view.get("root_gb", 0))),
            image=image,
            ports=ports,
            user_data=view.get("user_data"),
            key_data=view.get("key_data"),
            metadata=dict(view.get("metadata") or {}),
            hostname=view.get("hostname") or sanitize_hostname(name, view["uuid"]),
            key_name=view.get("key_name"),
            project_id=str(view.get("project_id") or ""),
            flavor_name=str(flavor.get("name") or ""),
            ephemeral_gb=int(flavor.get("ephemeral_gb", view.get("ephemeral_gb", 0)) or 0),
            swap_mb=int(flavor.get("swap", 0) or 0),
            config_drive=bool(view.get("config_drive")) or self.settings.force_config_drive,
        )

    async def _security_group_ids(
        self, view: dict[str, Any], token: str | None
    ) -> list[str] | None:
        """The ids of the groups the server asked for (names or ids), as Nova puts them on
        the ports it makes; None for just ``default`` (Neutron's own choice)."""
        names = [str(n) for n in view.get("security_groups") or []]
        if not names or names == ["default"]:
            return None
        try:
            response = await self.network.session.request(
                "GET",
                "network",
                "/v2.0/security-groups",
                params={"project_id": view["project_id"]},
                user_token=token,
                what="security groups",
            )
        except errors.KumoError as exc:
            raise BuildAbort(f"Could not list security groups: {exc.message}") from exc
        groups = response.json().get("security_groups", [])
        ids: list[str] = []
        for name in names:
            found = [g for g in groups if name in (g.get("id"), g.get("name"))]
            if not found:
                raise BuildAbort(
                    f"Security group {name} not found for project {view['project_id']}."
                )
            if len(found) > 1:
                raise BuildAbort(
                    f"Multiple security groups named {name}: use an ID to be more specific."
                )
            if str(found[0]["id"]) not in ids:
                ids.append(str(found[0]["id"]))
        return ids

    async def _ports(self, view: dict[str, Any]) -> list[dict[str, Any]]:
        """The server's ports as the guest needs them: MAC, and static IPv4 when known."""
        if not view.get("network_info") or not await self.network.available():
            return []
        return [_guest_port(port) for port in await self.network.list_ports(device_id=view["uuid"])]

    async def _rollback(
        self, uuid: str, ports: list[str], spawned: bool, *, free_allocation: bool
    ) -> None:
        """Undo a failed build on this host (each step best effort)."""
        if spawned or uuid in await self.driver.list_instances():
            with suppress(Exception):
                await self.driver.destroy(uuid)
        for port_id in ports:
            with suppress(Exception):
                await self.network.delete_port(port_id)
        if free_allocation:
            try:
                await self.placement.delete_allocations(uuid)
            except Exception:
                log.exception("could not free the allocation of %s", uuid)

    async def _fail(self, uuid: str, message: str, details: str | None) -> None:
        with suppress(InstanceGone):
            await self.conductor.set_fault(uuid, 500, message, details, self.host)
            await self._set_state(uuid, vm_state=ERROR, task_state=None)

    # ----- every other action --------------------------------------------------

    async def run_action(
        self,
        context: dict[str, Any],
        instance_uuid: str,
        action: str,
        request_id: str,
        params: dict[str, Any] | None = None,
    ) -> str | None:
        """Run server ``action`` (see :data:`kumo.compute.rpcapi.ACTIONS`) on this host."""
        handler = self._handlers().get(action)
        if handler is None:
            raise ValueError(f"unknown compute action {action!r}")
        params = dict(params or {})
        if action == "get_console_output":
            # A read: no instance action is recorded for it (as in Nova).
            view = await self._view(instance_uuid, building=False)
            text = await handler(context, view, params)
            return str(text)
        event = EVENTS.get(action, f"compute_{action}")
        try:
            async with (
                self._serialized(instance_uuid),
                self._event(instance_uuid, request_id, event),
            ):
                view = await self._view(instance_uuid, building=False)
                await handler(context, view, params)
                return None
        except InstanceGone:
            log.info("instance %s is gone; %s dropped", instance_uuid, action)
            return None
        except Exception as exc:
            log.warning("%s of %s failed on %s: %s", action, instance_uuid, self.host, exc)
            message = str(exc) or type(exc).__name__
            with suppress(Exception):
                await self.conductor.set_fault(
                    instance_uuid, 500, message, "".join(tb.format_exception(exc)), self.host
                )
                # As Nova's reverts_task_state: the server keeps its state, loses the task
                # (moves and rebuilds that failed half-way leave it in ERROR).
                changes: dict[str, Any] = {"task_state": None}
                if action in _ERROR_ON_FAIL:
                    changes["vm_state"] = ERROR
                await self._set_state(instance_uuid, **changes)
            return None

    def _handlers(
        self,
    ) -> dict[str, Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], Awaitable[Any]]]:
        return {
            "reboot": self._reboot,
            "stop": self._power(self.driver.power_off, STOPPED, SHUTDOWN),
            "start": self._power(self.driver.power_on, ACTIVE, RUNNING),
            "pause": self._power(self.driver.pause, PAUSED_VM, PAUSED),
            "unpause": self._power(self.driver.unpause, ACTIVE, RUNNING),
            "suspend": self._power(self.driver.suspend, SUSPENDED_VM, SUSPENDED),
            "resume": self._power(self.driver.resume, ACTIVE, RUNNING),
            "rescue": self._power(self.driver.rescue, RESCUED, RUNNING),
            "unrescue": self._power(self.driver.unrescue, ACTIVE, RUNNING),
            "rebuild": self._rebuild,
            "evacuate": self._rebuild,
            "resize": self._resize,
            "migrate": self._migrate,
            "confirm_resize": self._confirm_resize,
            "revert_resize": self._revert_resize,
            "snapshot": self._snapshot,
            "backup": self._snapshot,
            "shelve": self._shelve,
            "shelve_offload": self._shelve_offload,
            "unshelve": self._unshelve,
            "delete": self._delete,
            "get_console_output": self._console,
        }

    def _power(
        self, op: Callable[[str], Awaitable[None]], vm_state: str, power_state: int
    ) -> Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], Awaitable[None]]:
        async def run(
            context: dict[str, Any], view: dict[str, Any], params: dict[str, Any]
        ) -> None:
            await op(view["uuid"])
            await self._set_state(
                view["uuid"],
                vm_state=vm_state,
                task_state=None,
                power_state=power_state,
                expected_task_state=view.get("task_state"),
            )

        return run

    async def _reboot(
        self, context: dict[str, Any], view: dict[str, Any], params: dict[str, Any]
    ) -> None:
        hard = str(params.get("reboot_type", "SOFT")).upper() == "HARD"
        await self.driver.reboot(view["uuid"], hard)
        await self._set_state(
            view["uuid"],
            vm_state=ACTIVE,
            task_state=None,
            power_state=RUNNING,
            expected_task_state=view.get("task_state"),
        )

    async def _rebuild(
        self, context: dict[str, Any], view: dict[str, Any], params: dict[str, Any]
    ) -> None:
        """Rebuild (same host, new image) or evacuate (this host takes a down host's server)."""
        uuid = view["uuid"]
        image_ref = params.get("image_ref") or view.get("image_ref")
        image = await self._image_for(dict(view, image_ref=image_ref), context)
        with suppress(VirtError):
            await self.driver.destroy(uuid)
        # Nova: a server rebuilt while stopped is stopped again afterwards.
        stopped = view.get("vm_state") == STOPPED
        power = await self._spawn(self._guest(view, image, await self._ports(view)), stopped)
        changes: dict[str, Any] = {}
        if image_ref and image_ref != view.get("image_ref"):
            changes["image_ref"] = image_ref
        if view.get("host") != self.host:
            changes.update(host=self.host, node=self.host, launched_on=self.host)
        await self._set_state(
            uuid,
            vm_state=STOPPED if stopped else ACTIVE,
            task_state=None,
            power_state=power,
            expected_task_state=view.get("task_state"),
            **changes,
        )

    async def _spawn(self, guest: GuestSpec, stopped: bool) -> int:
        """Start ``guest``; powered off again when the server was stopped. Its power state."""
        await self.driver.spawn(guest)
        if not stopped:
            return RUNNING
        await self.driver.power_off(guest.uuid)
        return SHUTDOWN

    async def _resize(
        self, context: dict[str, Any], view: dict[str, Any], params: dict[str, Any]
    ) -> None:
        """Resize in place: claim the new flavor's resources here, keep the old for a revert."""
        uuid = view["uuid"]
        new = view.get("new_flavor") or params.get("flavor")
        if not new:
            raise ValueError("resize needs the new flavor")
        current = await self.placement.get_allocations(uuid)
        await self.placement.claim(
            uuid,
            {self.rp_uuid: {"resources": _flavor_resources(new)}},
            view["project_id"],
            view["user_id"],
            consumer_generation=current.get("consumer_generation"),
        )
        fault_point("resize_compute_claimed")
        image = await self._image_for(view, context) if view.get("image_ref") else {}
        guest = self._guest(dict(view, flavor=new), image, await self._ports(view))
        with suppress(VirtError):
            await self.driver.destroy(uuid)
        # Nova keeps a stopped server stopped through resize, confirm and revert.
        stopped = view.get("vm_state") == STOPPED
        power = await self._spawn(guest, stopped)
        sysmeta = dict(view.get("system_metadata") or {})
        sysmeta["old_vm_state"] = STOPPED if stopped else ACTIVE
        await self._set_state(
            uuid,
            vm_state=RESIZED,
            task_state=None,
            power_state=power,
            system_metadata=sysmeta,
            expected_task_state=view.get("task_state"),
            **_flavor_fields(new, old=view.get("flavor")),
        )

    async def _migrate(
        self, context: dict[str, Any], view: dict[str, Any], params: dict[str, Any]
    ) -> None:
        """Cold migration, on the destination: the guest moves here, pending confirm/revert."""
        uuid = view["uuid"]
        image = await self._image_for(view, context) if view.get("image_ref") else {}
        stopped = view.get("vm_state") == STOPPED
        power = await self._spawn(self._guest(view, image, await self._ports(view)), stopped)
        sysmeta = dict(view.get("system_metadata") or {})
        sysmeta["resize_source_host"] = params.get("source_host") or view.get("host") or ""
        sysmeta["old_vm_state"] = STOPPED if stopped else ACTIVE
        await self._set_state(
            uuid,
            vm_state=RESIZED,
            task_state=None,
            power_state=power,
            host=self.host,
            node=self.host,
            old_flavor=view.get("flavor"),
            system_metadata=sysmeta,
            expected_task_state=view.get("task_state"),
        )

    async def _confirm_resize(
        self, context: dict[str, Any], view: dict[str, Any], params: dict[str, Any]
    ) -> None:
        """Keep the new size/host: drop the old flavor and the source host's share."""
        uuid = view["uuid"]
        sysmeta = dict(view.get("system_metadata") or {})
        source = sysmeta.pop("resize_source_host", "")
        if source and source != self.host:
            current = await self.placement.get_allocations(uuid)
            mine = current.get("allocations", {}).get(self.rp_uuid)
            if mine:
                await self.placement.claim(
                    uuid,
                    {self.rp_uuid: {"resources": mine["resources"]}},
                    view["project_id"],
                    view["user_id"],
                    consumer_generation=current.get("consumer_generation"),
                )
            if self.bus is not None:
                await self.bus.cast(
                    compute_topic(source, self.topic_prefix),
                    "cleanup_guest",
                    {"instance_uuid": uuid},
                )
        stopped = sysmeta.pop("old_vm_state", ACTIVE) == STOPPED
        await self._set_state(
            uuid,
            vm_state=STOPPED if stopped else ACTIVE,
            task_state=None,
            old_flavor=None,
            system_metadata=sysmeta,
            expected_task_state=view.get("task_state"),
        )

    async def _revert_resize(
        self, context: dict[str, Any], view: dict[str, Any], params: dict[str, Any]
    ) -> None:
        """Go back to the old flavor (and host): restore its allocation."""
        uuid = view["uuid"]
        old = view.get("old_flavor") or view.get("flavor") or {}
        sysmeta = dict(view.get("system_metadata") or {})
        source = sysmeta.pop("resize_source_host", "") or self.host
        current = await self.placement.get_allocations(uuid)
        await self.placement.claim(
            uuid,
            {provider_uuid(source): {"resources": _flavor_resources(old)}},
            view["project_id"],
            view["user_id"],
            consumer_generation=current.get("consumer_generation"),
        )
        stopped = sysmeta.pop("old_vm_state", ACTIVE) == STOPPED
        changes: dict[str, Any] = dict(_flavor_fields(old, old=None), system_metadata=sysmeta)
        power = SHUTDOWN if stopped else RUNNING
        with suppress(VirtError):
            await self.driver.destroy(uuid)
        if source != self.host:
            changes.update(host=source, node=source)
        else:
            image = await self._image_for(view, context) if view.get("image_ref") else {}
            guest = self._guest(dict(view, flavor=old), image, await self._ports(view))
            power = await self._spawn(guest, stopped)
        await self._set_state(
            uuid,
            vm_state=STOPPED if stopped else ACTIVE,
            task_state=None,
            power_state=power,
            expected_task_state=view.get("task_state"),
            **changes,
        )

    async def _upload_snapshot(
        self, context: dict[str, Any], view: dict[str, Any], params: dict[str, Any], name: str
    ) -> str:
        data = await self.driver.snapshot(view["uuid"])
        token = _user_token(context)
        image_id = params.get("image_id")
        if not image_id:
            body: dict[str, Any] = {
                "name": params.get("name") or name,
                "disk_format": self.driver.snapshot_format,
                "container_format": "bare",
                "visibility": "private",
                "image_type": params.get("image_type", "snapshot"),
                "instance_uuid": view["uuid"],
            }
            for key, value in (params.get("metadata") or {}).items():
                body.setdefault(key, value)
            image_id = (await self.image.create_image(body, user_token=token))["id"]
        fault_point("snapshot_compute_upload")
        try:
            await self.image.upload(str(image_id), data, user_token=token)
        except Exception:
            with suppress(Exception):
                await self.image.delete_image(str(image_id), user_token=token)
            raise
        return str(image_id)

    async def _snapshot(
        self, context: dict[str, Any], view: dict[str, Any], params: dict[str, Any]
    ) -> None:
        await self._upload_snapshot(context, view, params, f"{view.get('display_name')}-snapshot")
        await self._set_state(
            view["uuid"], task_state=None, expected_task_state=view.get("task_state")
        )

    async def _shelve(
        self, context: dict[str, Any], view: dict[str, Any], params: dict[str, Any]
    ) -> None:
        """Snapshot, stop, then offload at once (Nova's shelved_offload_time 0)."""
        uuid = view["uuid"]
        image_id = await self._upload_snapshot(
            context, view, params, f"{view.get('display_name')}-shelved"
        )
        await self.driver.power_off(uuid)
        sysmeta = dict(view.get("system_metadata") or {})
        sysmeta["shelved_image_id"] = image_id
        sysmeta["shelved_host"] = self.host
        await self._set_state(
            uuid,
            vm_state=SHELVED,
            task_state="shelving_offloading",
            power_state=SHUTDOWN,
            system_metadata=sysmeta,
            expected_task_state=view.get("task_state"),
        )
        await self._offload(uuid, "shelving_offloading")

    async def _shelve_offload(
        self, context: dict[str, Any], view: dict[str, Any], params: dict[str, Any]
    ) -> None:
        await self._offload(view["uuid"], view.get("task_state"))

    async def _offload(self, uuid: str, expected: str | None) -> None:
        """Free the host: destroy the guest, free the allocation, forget host and node."""
        with suppress(VirtError):
            await self.driver.destroy(uuid)
        await self.placement.delete_allocations(uuid)
        await self._set_state(
            uuid,
            vm_state=SHELVED_OFFLOADED,
            task_state=None,
            power_state=SHUTDOWN,
            host=None,
            node=None,
            expected_task_state=expected,
        )

    async def _unshelve(
        self, context: dict[str, Any], view: dict[str, Any], params: dict[str, Any]
    ) -> None:
        """On the host the scheduler picked: spawn from the shelved image."""
        uuid = view["uuid"]
        sysmeta = dict(view.get("system_metadata") or {})
        shelved_image = sysmeta.pop("shelved_image_id", None)
        sysmeta.pop("shelved_host", None)
        image = {}
        if shelved_image:
            image = await self._image_for(dict(view, image_ref=shelved_image), context)
        await self.driver.spawn(self._guest(view, image, await self._ports(view)))
        # As Nova does, the shelved snapshot goes before the server is ACTIVE again (the
        # guest's disk is an overlay on this host's cached copy, not on the image).
        if shelved_image:
            with suppress(Exception):
                await self.image.delete_image(shelved_image, user_token=_user_token(context))
        await self._set_state(
            uuid,
            vm_state=ACTIVE,
            task_state=None,
            power_state=RUNNING,
            host=self.host,
            node=self.host,
            system_metadata=sysmeta,
            expected_task_state=view.get("task_state"),
        )

    async def _delete(
        self, context: dict[str, Any], view: dict[str, Any], params: dict[str, Any]
    ) -> None:
        """Destroy the guest, delete its ports, free its allocation, mark it deleted."""
        uuid = view["uuid"]
        await self.driver.destroy(uuid)
        await self._release_ports(view)
        fault_point("delete_compute_ports_released")
        await self.placement.delete_allocations(uuid)
        await self._set_state(uuid, vm_state=DELETED, task_state=None, power_state=NOSTATE)

    async def _release_ports(self, view: dict[str, Any]) -> None:
        if not view.get("network_info") or not await self.network.available():
            return
        keep = set(
            filter(
                None, (view.get("system_metadata") or {}).get("preexisting_ports", "").split(",")
            )
        )
        for port in await self.network.list_ports(device_id=view["uuid"]):
            if port["id"] in keep:
                with suppress(Exception):
                    await self.network.update_port(
                        port["id"], {"device_id": "", "device_owner": "", "binding:host_id": ""}
                    )
            else:
                await self.network.delete_port(port["id"])

    async def _console(
        self, context: dict[str, Any], view: dict[str, Any], params: dict[str, Any]
    ) -> str:
        text = await self.driver.get_console_output(view["uuid"])
        length = params.get("length")
        if length is not None:
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-int(length) :]) if int(length) > 0 else ""
        return text

    async def get_serial_console(self, instance_uuid: str) -> dict[str, Any]:
        """Where the guest's serial console is on this host (a bus ``call`` from the proxy).

        Answers Nova's console connection info: ``host``, ``port`` (TCP, or None)
        and ``internal_access_path`` (the unix socket). The driver raises
        ``ConsoleUnavailable`` when it has none (the fake driver, a stopped guest).
        """
        console = await self.driver.serial_console(instance_uuid)
        return {"host": console.host, "port": console.port, "internal_access_path": console.path}

    async def get_vnc_console(self, instance_uuid: str) -> dict[str, Any]:
        """Where the guest's VNC server is on this host (a bus ``call``), as for serial.

        The driver raises ``NoDisplay`` for a guest without one (microvm) and
        ``ConsoleUnavailable`` when the guest is not running.
        """
        console = await self.driver.vnc_console(instance_uuid)
        return {"host": console.host, "port": console.port, "internal_access_path": console.path}

    async def get_screenshot(self, instance_uuid: str) -> dict[str, Any]:
        """The guest's display as PNG, base64 in ``png`` (the bus carries JSON)."""
        data = await self.driver.screenshot(instance_uuid)
        return {"png": base64.b64encode(data).decode()}

    async def get_diagnostics(self, instance_uuid: str) -> dict[str, Any]:
        """The guest's statistics from the driver (a bus ``call`` from the API).

        ``driver``, ``num_*`` and the Nova shape are added by the API; the driver's
        ``DiagnosticsUnavailable`` comes back as a ``RemoteError`` of that type.
        """
        return asdict(await self.driver.diagnostics(instance_uuid))

    async def cleanup_guest(self, instance_uuid: str) -> None:
        """Destroy a guest left on this host by a confirmed migration."""
        async with self._serialized(instance_uuid):
            with suppress(VirtError):
                await self.driver.destroy(instance_uuid)


class _Steps:
    """The build's journey events: one open at a time, each boundary one conductor call."""

    def __init__(self, agent: ComputeManager, uuid: str, request_id: str) -> None:
        self.agent = agent
        self.uuid = uuid
        self.request_id = request_id
        self.open: str | None = None

    async def next(self, step: str | None, **changes: Any) -> None:
        """Finish the open event, apply ``changes``, start the event of ``step``."""
        event = journey.event_name(step) if step else None
        fault_point(event)
        try:
            await self.agent.conductor.transition(
                self.uuid,
                self.request_id,
                finish=self.open,
                changes=changes,
                start=event,
                host=self.agent.host,
            )
        except RemoteError as exc:
            if _is_gone(exc):
                raise InstanceGone(self.uuid) from exc
            raise
        self.open = event

    async def failed(self, exc: BaseException | None) -> None:
        """Finish the open event as an error (best effort)."""
        if self.open is None:
            return
        trace = "".join(tb.format_exception(exc)) if exc is not None else "instance deleted"
        with suppress(Exception):
            await self.agent.conductor.event_finish(
                self.uuid, self.request_id, self.open, "Error", traceback=trace
            )
        self.open = None


#: Actions whose failure leaves the server in ERROR (the rest only drop the task).
_ERROR_ON_FAIL = frozenset({"rebuild", "evacuate", "resize", "migrate", "unshelve"})

#: Instance-action event names of each action (Nova's ``compute_*`` names).
EVENTS = {
    "reboot": "compute_reboot_instance",
    "stop": "compute_stop_instance",
    "start": "compute_start_instance",
    "pause": "compute_pause_instance",
    "unpause": "compute_unpause_instance",
    "suspend": "compute_suspend_instance",
    "resume": "compute_resume_instance",
    "rescue": "compute_rescue_instance",
    "unrescue": "compute_unrescue_instance",
    "rebuild": "compute_rebuild_instance",
    "evacuate": "compute_rebuild_instance",
    "resize": "compute_resize_instance",
    "migrate": "compute_finish_resize",
    "confirm_resize": "compute_confirm_resize",
    "revert_resize": "compute_revert_resize",
    "snapshot": "compute_snapshot_instance",
    "backup": "compute_backup_instance",
    "shelve": "compute_shelve_instance",
    "shelve_offload": "compute_shelve_offload_instance",
    "unshelve": "compute_unshelve_instance",
    "delete": "compute_terminate_instance",
    "get_console_output": "compute_get_console_output",
}


def _guest_port(port: dict[str, Any]) -> dict[str, Any]:
    """A port as the guest needs it: id, MAC, network, MTU, and its first IPv4 address."""
    item: dict[str, Any] = {
        "id": port["id"],
        "mac_address": port.get("mac_address"),
        "network_id": port.get("network_id"),
        "mtu": port.get("mtu"),
    }
    for fixed in port.get("fixed_ips") or []:
        address = str(fixed.get("ip_address") or "")
        if address and ":" not in address:
            item["ip_address"] = address
            break
    return item


def _flavor_resources(flavor: dict[str, Any]) -> dict[str, int]:
    disk = int(flavor.get("root_gb", 0)) + int(flavor.get("ephemeral_gb", 0))
    disk += -(-int(flavor.get("swap", 0) or 0) // 1024)
    out = {"VCPU": int(flavor.get("vcpus", 1)), "MEMORY_MB": int(flavor.get("memory_mb", 0))}
    if disk:
        out["DISK_GB"] = disk
    return out


def _flavor_fields(new: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "flavor": new,
        "flavor_id": str(new.get("flavorid") or new.get("id") or ""),
        "old_flavor": old,
        "new_flavor": None,
        "vcpus": int(new.get("vcpus", 0)),
        "memory_mb": int(new.get("memory_mb", 0)),
        "root_gb": int(new.get("root_gb", 0)),
        "ephemeral_gb": int(new.get("ephemeral_gb", 0)),
    }
