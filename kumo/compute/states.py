"""Nova's server states and the one table of which action may start in which state.

``vm_state`` is the stable state, ``task_state`` the work in progress and
``power_state`` what the hypervisor last reported. :data:`ACTIONS` mirrors the
``@check_instance_state`` decorators of ``nova/compute/api.py``: for every
server action the vm_states (and task_states) it may start from and the
task_state the API sets before handing the work to the compute host.
:func:`status_of` maps the pair to the API's ``status`` as Nova's
``_STATE_MAP`` does.
"""

from __future__ import annotations

from kumo.common.errors import Conflict
from kumo.common.fsm import InvalidTransition, StateMachine, Transition

# vm_state (nova/compute/vm_states.py)
ACTIVE = "active"
BUILDING = "building"
PAUSED = "paused"
SUSPENDED = "suspended"
STOPPED = "stopped"
RESCUED = "rescued"
RESIZED = "resized"
SOFT_DELETED = "soft-delete"
DELETED = "deleted"
ERROR = "error"
SHELVED = "shelved"
SHELVED_OFFLOADED = "shelved_offloaded"

VM_STATES = (
    ACTIVE,
    BUILDING,
    PAUSED,
    SUSPENDED,
    STOPPED,
    RESCUED,
    RESIZED,
    SOFT_DELETED,
    DELETED,
    ERROR,
    SHELVED,
    SHELVED_OFFLOADED,
)

# task_state (nova/compute/task_states.py)
SCHEDULING = "scheduling"
BLOCK_DEVICE_MAPPING = "block_device_mapping"
NETWORKING = "networking"
SPAWNING = "spawning"
IMAGE_SNAPSHOT = "image_snapshot"
IMAGE_SNAPSHOT_PENDING = "image_snapshot_pending"
IMAGE_PENDING_UPLOAD = "image_pending_upload"
IMAGE_UPLOADING = "image_uploading"
IMAGE_BACKUP = "image_backup"
UPDATING_PASSWORD = "updating_password"  # noqa: S105 (a task state, not a secret)
RESIZE_PREP = "resize_prep"
RESIZE_MIGRATING = "resize_migrating"
RESIZE_MIGRATED = "resize_migrated"
RESIZE_FINISH = "resize_finish"
RESIZE_REVERTING = "resize_reverting"
RESIZE_CONFIRMING = "resize_confirming"
REBOOTING = "rebooting"
REBOOT_PENDING = "reboot_pending"
REBOOT_STARTED = "reboot_started"
REBOOTING_HARD = "rebooting_hard"
REBOOT_PENDING_HARD = "reboot_pending_hard"
REBOOT_STARTED_HARD = "reboot_started_hard"
PAUSING = "pausing"
UNPAUSING = "unpausing"
SUSPENDING = "suspending"
RESUMING = "resuming"
POWERING_OFF = "powering-off"
POWERING_ON = "powering-on"
RESCUING = "rescuing"
UNRESCUING = "unrescuing"
REBUILDING = "rebuilding"
REBUILD_BLOCK_DEVICE_MAPPING = "rebuild_block_device_mapping"
REBUILD_SPAWNING = "rebuild_spawning"
MIGRATING = "migrating"
DELETING = "deleting"
SOFT_DELETING = "soft-deleting"
RESTORING = "restoring"
SHELVING = "shelving"
SHELVING_IMAGE_PENDING_UPLOAD = "shelving_image_pending_upload"
SHELVING_IMAGE_UPLOADING = "shelving_image_uploading"
SHELVING_OFFLOADING = "shelving_offloading"
UNSHELVING = "unshelving"

#: Task states a hard reboot may interrupt (Nova's ``ALLOW_REBOOT``).
ALLOW_REBOOT: frozenset[str | None] = frozenset(
    {
        None,
        REBOOTING,
        REBOOT_PENDING,
        REBOOT_STARTED,
        RESUMING,
        REBOOTING_HARD,
        UNPAUSING,
        PAUSING,
        SUSPENDING,
    }
)

# power_state (nova/compute/power_state.py): the integers the API shows.
NOSTATE = 0
RUNNING = 1
PAUSED_POWER = 3
SHUTDOWN = 4
CRASHED = 6
SUSPENDED_POWER = 7

POWER_STATES = {
    NOSTATE: "pending",
    RUNNING: "running",
    PAUSED_POWER: "paused",
    SHUTDOWN: "shutdown",
    CRASHED: "crashed",
    SUSPENDED_POWER: "suspended",
}


def _states(*names: str) -> frozenset[str]:
    return frozenset(names)


_NO_TASK: frozenset[str | None] = frozenset({None})

#: Every server action: the vm_states it may start from, the task_states it may
#: start from (default: none running) and the task_state it sets. Keys are the
#: API's action names as Nova reports them in 409 messages.
ACTIONS = StateMachine(
    [
        Transition("stop", _states(ACTIVE, ERROR), sets_task=POWERING_OFF),
        Transition("start", _states(STOPPED), sets_task=POWERING_ON),
        Transition("reboot", _states(ACTIVE), sets_task=REBOOTING),
        Transition(
            "reboot_hard",
            _states(ACTIVE, STOPPED, PAUSED, SUSPENDED, ERROR),
            from_tasks=ALLOW_REBOOT,
            sets_task=REBOOTING_HARD,
            display="reboot",
        ),
        Transition("pause", _states(ACTIVE), sets_task=PAUSING),
        Transition("unpause", _states(PAUSED), sets_task=UNPAUSING),
        Transition("suspend", _states(ACTIVE), sets_task=SUSPENDING),
        Transition("resume", _states(SUSPENDED), sets_task=RESUMING),
        Transition("lock", None, from_tasks=None, must_have_launched=False),
        Transition("unlock", None, from_tasks=None, must_have_launched=False),
        Transition("rebuild", _states(ACTIVE, STOPPED, ERROR), sets_task=REBUILDING),
        Transition("resize", _states(ACTIVE, STOPPED), sets_task=RESIZE_PREP),
        Transition("confirmResize", _states(RESIZED)),
        Transition("revertResize", _states(RESIZED), sets_task=RESIZE_REVERTING),
        Transition(
            "createImage", _states(ACTIVE, STOPPED, PAUSED, SUSPENDED), sets_task=IMAGE_SNAPSHOT
        ),
        Transition(
            "createBackup", _states(ACTIVE, STOPPED, PAUSED, SUSPENDED), sets_task=IMAGE_BACKUP
        ),
        Transition("rescue", _states(ACTIVE, STOPPED, ERROR), sets_task=RESCUING),
        Transition("unrescue", _states(RESCUED), sets_task=UNRESCUING),
        Transition("shelve", _states(ACTIVE, STOPPED, PAUSED, SUSPENDED), sets_task=SHELVING),
        Transition("shelveOffload", _states(SHELVED), sets_task=SHELVING_OFFLOADING),
        Transition("unshelve", _states(SHELVED, SHELVED_OFFLOADED), sets_task=UNSHELVING),
        Transition("migrate", _states(ACTIVE, STOPPED), sets_task=RESIZE_PREP),
        Transition("os-migrateLive", _states(ACTIVE, PAUSED), sets_task=MIGRATING),
        Transition("evacuate", _states(ACTIVE, STOPPED, ERROR), sets_task=REBUILDING),
        Transition("changePassword", _states(ACTIVE), sets_task=UPDATING_PASSWORD),
        Transition(
            "trigger_crash_dump",
            _states(ACTIVE, PAUSED, RESCUED, RESIZED, ERROR),
        ),
        # Asks the host; the guest must exist and be able to write a console.
        Transition(
            "os-getConsoleOutput",
            _states(ACTIVE, PAUSED, RESCUED, RESIZED, SUSPENDED, STOPPED),
            from_tasks=None,
        ),
        Transition("delete", None, from_tasks=None, sets_task=DELETING, must_have_launched=False),
        Transition(
            "forceDelete", None, from_tasks=None, sets_task=DELETING, must_have_launched=False
        ),
        Transition("restore", _states(SOFT_DELETED), sets_task=RESTORING),
        # Changing a server's metadata or tags (no task state is set).
        Transition("update metadata", _states(ACTIVE, PAUSED, SUSPENDED, STOPPED)),
        Transition("delete metadata", _states(ACTIVE, PAUSED, SUSPENDED, STOPPED)),
        *(
            Transition(
                name,
                _states(ACTIVE, PAUSED, SUSPENDED, STOPPED),
                from_tasks=None,
                must_have_launched=False,
            )
            for name in ("update tag", "update tags", "delete tag", "delete tags")
        ),
    ]
)


def check_action(
    action: str, instance_uuid: str, vm_state: str, task_state: str | None, launched: bool
) -> Transition:
    """The transition for ``action``, or Conflict with Nova's message when not allowed now."""
    try:
        return ACTIONS.check(action, vm_state, task_state, launched)
    except InvalidTransition as exc:
        state = "None" if exc.state is None else exc.state
        raise Conflict(
            f"Cannot '{exc.action}' instance {instance_uuid} while it is in {exc.attr} {state}"
        ) from exc


#: vm_state → {task_state → status}, with "default" when no task_state matches.
_STATUS: dict[str, dict[str | None, str]] = {
    ACTIVE: {
        None: "ACTIVE",
        REBOOTING: "REBOOT",
        REBOOT_PENDING: "REBOOT",
        REBOOT_STARTED: "REBOOT",
        REBOOTING_HARD: "HARD_REBOOT",
        REBOOT_PENDING_HARD: "HARD_REBOOT",
        REBOOT_STARTED_HARD: "HARD_REBOOT",
        UPDATING_PASSWORD: "PASSWORD",
        REBUILDING: "REBUILD",
        REBUILD_BLOCK_DEVICE_MAPPING: "REBUILD",
        REBUILD_SPAWNING: "REBUILD",
        MIGRATING: "MIGRATING",
        RESIZE_PREP: "RESIZE",
        RESIZE_MIGRATING: "RESIZE",
        RESIZE_MIGRATED: "RESIZE",
        RESIZE_FINISH: "RESIZE",
    },
    BUILDING: {None: "BUILD"},
    STOPPED: {
        None: "SHUTOFF",
        RESIZE_PREP: "RESIZE",
        RESIZE_MIGRATING: "RESIZE",
        RESIZE_MIGRATED: "RESIZE",
        RESIZE_FINISH: "RESIZE",
        REBUILDING: "REBUILD",
        REBUILD_BLOCK_DEVICE_MAPPING: "REBUILD",
        REBUILD_SPAWNING: "REBUILD",
    },
    RESIZED: {None: "VERIFY_RESIZE", RESIZE_REVERTING: "REVERT_RESIZE"},
    PAUSED: {None: "PAUSED", MIGRATING: "MIGRATING"},
    SUSPENDED: {None: "SUSPENDED"},
    RESCUED: {None: "RESCUE"},
    ERROR: {
        None: "ERROR",
        REBUILDING: "REBUILD",
        REBUILD_BLOCK_DEVICE_MAPPING: "REBUILD",
        REBUILD_SPAWNING: "REBUILD",
    },
    DELETED: {None: "DELETED"},
    SOFT_DELETED: {None: "SOFT_DELETED"},
    SHELVED: {None: "SHELVED"},
    SHELVED_OFFLOADED: {None: "SHELVED_OFFLOADED"},
}


def status_of(vm_state: str, task_state: str | None) -> str:
    """The API ``status`` of a server (Nova's ``status_from_state``)."""
    tasks = _STATUS.get(vm_state)
    if tasks is None:
        return "UNKNOWN"
    return tasks.get(task_state, tasks[None])


def states_for_status(status: str) -> tuple[set[str], set[str | None]] | None:
    """The vm_states and task_states a ``status`` filter selects; None when unknown.

    Like Nova's ``task_and_vm_state_from_status``: a default status selects its
    vm_state with any task state not mapped to another status.
    """
    wanted = status.upper()
    vm: set[str] = set()
    tasks: set[str | None] = set()
    found = False
    for vm_state, mapping in _STATUS.items():
        for task, name in mapping.items():
            if name == wanted:
                found = True
                vm.add(vm_state)
                tasks.add(task)
    return (vm, tasks) if found else None
