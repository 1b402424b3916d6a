"""A small generic state machine: which action may start from which state, declared as data.

A :class:`Transition` names an action, the primary states it may start from,
the secondary ("task") states it may start from, and the secondary state it
sets while the work runs. :meth:`StateMachine.check` answers "may this action
start now?" and raises :class:`InvalidTransition` saying which attribute
refused it, so each service can phrase the error its own way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: ``from_states``/``from_tasks`` value meaning "any state".
ANY: frozenset[str | None] | None = None


class InvalidTransition(Exception):
    """An action may not start in the current state."""

    def __init__(self, action: str, attr: str, state: object) -> None:
        self.action = action
        self.attr = attr
        self.state = state
        super().__init__(f"Cannot '{action}' while {attr} is {state}")


@dataclass(frozen=True)
class Transition:
    """One action: where it may start and the task state it sets while running."""

    action: str
    #: Primary states the action may start from; None for any.
    from_states: frozenset[str] | None
    #: Task states the action may start from; None for any (default: no task running).
    from_tasks: frozenset[str | None] | None = frozenset({None})
    #: The task state set while the action runs (None: the task state is left alone).
    sets_task: str | None = None
    #: Refuse objects that never reached a started state (Nova's ``launched_at``).
    must_have_launched: bool = True
    #: The name the action is reported under in errors, when not ``action``.
    display: str | None = None

    @property
    def name(self) -> str:
        """The name used in error messages."""
        return self.display or self.action


class StateMachine:
    """A table of transitions keyed by action name."""

    def __init__(self, transitions: Iterable[Transition]) -> None:
        self.transitions: dict[str, Transition] = {}
        for transition in transitions:
            if transition.action in self.transitions:
                raise ValueError(f"duplicate transition {transition.action!r}")
            self.transitions[transition.action] = transition

    def __getitem__(self, action: str) -> Transition:
        return self.transitions[action]

    def allowed(self, action: str, state: str, task: str | None, launched: bool = True) -> bool:
        """True when ``action`` may start from ``state``/``task``."""
        try:
            self.check(action, state, task, launched)
        except InvalidTransition:
            return False
        return True

    def check(self, action: str, state: str, task: str | None, launched: bool = True) -> Transition:
        """The transition for ``action``; raise InvalidTransition when it may not start now.

        Checked in the order Nova checks: the primary state, then the task
        state, then whether the object ever launched.
        """
        transition = self.transitions[action]
        if transition.from_states is not None and state not in transition.from_states:
            raise InvalidTransition(transition.name, "vm_state", state)
        if transition.from_tasks is not None and task not in transition.from_tasks:
            raise InvalidTransition(transition.name, "task_state", task)
        if transition.must_have_launched and not launched:
            raise InvalidTransition(transition.name, "launched_at", None)
        return transition
