"""The server action table: every action × every vm_state is allowed or a 409.

The expectations are written out independently from Nova's
``@check_instance_state`` decorators in ``nova/compute/api.py``.
"""

from __future__ import annotations

import pytest

from kumo.common.errors import Conflict
from kumo.common.fsm import InvalidTransition, StateMachine, Transition
from kumo.compute import states as st

ALL = set(st.VM_STATES)

#: action → (vm_states it may start from, task_state it sets)
EXPECTED: dict[str, tuple[set[str], str | None]] = {
    "stop": ({"active", "error"}, "powering-off"),
    "start": ({"stopped"}, "powering-on"),
    "reboot": ({"active"}, "rebooting"),
    "reboot_hard": ({"active", "stopped", "paused", "suspended", "error"}, "rebooting_hard"),
    "pause": ({"active"}, "pausing"),
    "unpause": ({"paused"}, "unpausing"),
    "suspend": ({"active"}, "suspending"),
    "resume": ({"suspended"}, "resuming"),
    "lock": (ALL, None),
    "unlock": (ALL, None),
    "rebuild": ({"active", "stopped", "error"}, "rebuilding"),
    "resize": ({"active", "stopped"}, "resize_prep"),
    "confirmResize": ({"resized"}, None),
    "revertResize": ({"resized"}, "resize_reverting"),
    "createImage": ({"active", "stopped", "paused", "suspended"}, "image_snapshot"),
    "createBackup": ({"active", "stopped", "paused", "suspended"}, "image_backup"),
    "rescue": ({"active", "stopped", "error"}, "rescuing"),
    "unrescue": ({"rescued"}, "unrescuing"),
    "shelve": ({"active", "stopped", "paused", "suspended"}, "shelving"),
    "shelveOffload": ({"shelved"}, "shelving_offloading"),
    "unshelve": ({"shelved", "shelved_offloaded"}, "unshelving"),
    "migrate": ({"active", "stopped"}, "resize_prep"),
    "os-migrateLive": ({"active", "paused"}, "migrating"),
    "evacuate": ({"active", "stopped", "error"}, "rebuilding"),
    "changePassword": ({"active"}, "updating_password"),
    "trigger_crash_dump": ({"active", "paused", "rescued", "resized", "error"}, None),
    "os-getConsoleOutput": (
        {"active", "paused", "rescued", "resized", "suspended", "stopped"},
        None,
    ),
    "delete": (ALL, "deleting"),
    "forceDelete": (ALL, "deleting"),
    "restore": ({"soft-delete"}, "restoring"),
    "update metadata": ({"active", "paused", "suspended", "stopped"}, None),
    "delete metadata": ({"active", "paused", "suspended", "stopped"}, None),
    "update tag": ({"active", "paused", "suspended", "stopped"}, None),
    "update tags": ({"active", "paused", "suspended", "stopped"}, None),
    "delete tag": ({"active", "paused", "suspended", "stopped"}, None),
    "delete tags": ({"active", "paused", "suspended", "stopped"}, None),
}

#: Actions that may start while another task runs (reboot_hard: only some tasks).
ANY_TASK = {
    "lock",
    "unlock",
    "delete",
    "forceDelete",
    "os-getConsoleOutput",
    "reboot_hard",
    "update tag",
    "update tags",
    "delete tag",
    "delete tags",
}

CASES = [(action, vm) for action in sorted(EXPECTED) for vm in st.VM_STATES]


def test_table_covers_exactly_the_expected_actions() -> None:
    assert set(st.ACTIONS.transitions) == set(EXPECTED)


@pytest.mark.parametrize(("action", "vm_state"), CASES)
def test_every_action_in_every_vm_state(action: str, vm_state: str) -> None:
    allowed, sets_task = EXPECTED[action]
    uuid = "6f0b2c8e-0000-4000-8000-000000000001"
    if vm_state in allowed:
        transition = st.check_action(action, uuid, vm_state, None, launched=True)
        assert transition.sets_task == sets_task
    else:
        with pytest.raises(Conflict) as err:
            st.check_action(action, uuid, vm_state, None, launched=True)
        name = "reboot" if action == "reboot_hard" else action
        assert err.value.status == 409
        assert err.value.message == (
            f"Cannot '{name}' instance {uuid} while it is in vm_state {vm_state}"
        )


def test_stop_message_matches_nova() -> None:
    with pytest.raises(Conflict) as err:
        st.check_action("stop", "abc", st.STOPPED, None, launched=True)
    assert err.value.message == "Cannot 'stop' instance abc while it is in vm_state stopped"


@pytest.mark.parametrize(
    "action",
    sorted(a for a in EXPECTED if a not in ANY_TASK),
)
def test_a_running_task_refuses_the_action(action: str) -> None:
    vm_state = sorted(EXPECTED[action][0])[0]
    with pytest.raises(Conflict) as err:
        st.check_action(action, "abc", vm_state, st.POWERING_OFF, launched=True)
    assert "while it is in task_state powering-off" in err.value.message


def test_hard_reboot_interrupts_a_soft_reboot_but_not_a_rebuild() -> None:
    assert st.ACTIONS.allowed("reboot_hard", st.ACTIVE, st.REBOOTING)
    assert not st.ACTIONS.allowed("reboot", st.ACTIVE, st.REBOOTING)
    assert not st.ACTIONS.allowed("reboot_hard", st.ACTIVE, st.REBUILDING)


def test_delete_and_lock_ignore_running_tasks_and_unlaunched_servers() -> None:
    for action in ("delete", "forceDelete", "lock", "unlock"):
        assert st.ACTIONS.allowed(action, st.BUILDING, st.SCHEDULING, launched=False)


def test_a_never_launched_server_cannot_be_stopped() -> None:
    with pytest.raises(Conflict) as err:
        st.check_action("stop", "abc", st.ERROR, None, launched=False)
    assert err.value.message == "Cannot 'stop' instance abc while it is in launched_at None"


@pytest.mark.parametrize(
    ("vm_state", "task_state", "status"),
    [
        ("building", "scheduling", "BUILD"),
        ("active", None, "ACTIVE"),
        ("active", "rebooting", "REBOOT"),
        ("active", "rebooting_hard", "HARD_REBOOT"),
        ("active", "powering-off", "ACTIVE"),
        ("active", "resize_prep", "RESIZE"),
        ("stopped", None, "SHUTOFF"),
        ("stopped", "rebuilding", "REBUILD"),
        ("resized", None, "VERIFY_RESIZE"),
        ("resized", "resize_reverting", "REVERT_RESIZE"),
        ("paused", None, "PAUSED"),
        ("suspended", None, "SUSPENDED"),
        ("rescued", None, "RESCUE"),
        ("error", None, "ERROR"),
        ("deleted", None, "DELETED"),
        ("soft-delete", None, "SOFT_DELETED"),
        ("shelved", None, "SHELVED"),
        ("shelved_offloaded", None, "SHELVED_OFFLOADED"),
        ("bogus", None, "UNKNOWN"),
    ],
)
def test_status_from_states(vm_state: str, task_state: str | None, status: str) -> None:
    assert st.status_of(vm_state, task_state) == status


def test_status_filter_maps_back_to_states() -> None:
    found = st.states_for_status("shutoff")
    assert found is not None
    assert found[0] == {"stopped"}
    assert st.states_for_status("nonsense") is None


def test_fsm_rejects_duplicate_actions_and_reports_the_attribute() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        StateMachine([Transition("a", None), Transition("a", None)])
    machine = StateMachine([Transition("go", frozenset({"idle"}), sets_task="going")])
    with pytest.raises(InvalidTransition) as err:
        machine.check("go", "busy", None)
    assert (err.value.attr, err.value.state) == ("vm_state", "busy")
    assert machine.check("go", "idle", None).sets_task == "going"
