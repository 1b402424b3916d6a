"""The boot journey (booklet chapter 5): one instance-action event per step.

Every service that takes part in a boot records its step as an event of the
server's ``create`` action, named after the booklet's numbering, so
``os-instance-actions`` and ``kumo trace`` show the journey as a timeline.
Steps 1–2 (authentication) and 4–5 (token validation) happen before the
request reaches Nova and are not recorded per server.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JourneyStep:
    """One numbered step of the boot journey."""

    step: str
    event: str
    description: str


STEPS: tuple[JourneyStep, ...] = (
    JourneyStep(
        "3",
        "step_03_api_create_server",
        'The client sends "create server" to nova-api with the token.',
    ),
    JourneyStep(
        "6-7",
        "step_06_07_api_write_instance",
        "nova-api writes the new instance record to the database.",
    ),
    JourneyStep(
        "8",
        "step_08_api_ask_scheduler",
        "nova-api asks the scheduler (rpc call over the queue) for a host.",
    ),
    JourneyStep(
        "9-11",
        "step_09_11_scheduler_select_destinations",
        "The scheduler receives it, filters and weighs hosts, picks one.",
    ),
    JourneyStep(
        "12",
        "step_12_scheduler_cast_build",
        'The scheduler casts "build instance" to that compute host.',
    ),
    JourneyStep(
        "13",
        "step_13_compute_receive_build",
        "The compute agent receives it from the queue.",
    ),
    JourneyStep(
        "14-17",
        "step_14_17_conductor_instance_and_flavor",
        "The compute agent asks the conductor (rpc call) for the instance and flavor; "
        "the conductor reads the database.",
    ),
    JourneyStep(
        "18-21",
        "step_18_21_compute_fetch_image",
        "The compute agent fetches the image from glance-api with the token; "
        "Glance validates the token.",
    ),
    JourneyStep(
        "22-24",
        "step_22_24_compute_allocate_network",
        "The compute agent asks the network API to allocate ports; Neutron validates the token.",
    ),
    JourneyStep(
        "25-27",
        "step_25_27_compute_attach_volumes",
        "The compute agent asks the volume API to attach volumes; Cinder validates the token.",
    ),
    JourneyStep(
        "28",
        "step_28_compute_spawn_guest",
        "The compute agent builds the hypervisor definition and starts the guest.",
    ),
)

#: Step number ("9-11") → its step.
BY_STEP = {step.step: step for step in STEPS}
#: Event name → its step.
BY_EVENT = {step.event: step for step in STEPS}


def event_name(step: str) -> str:
    """The event name recorded for booklet step ``step`` (e.g. ``"9-11"``)."""
    return BY_STEP[step].event


def describe(event: str) -> str | None:
    """The one-line description of a journey event, or None for other events."""
    found = BY_EVENT.get(event)
    return found.description if found else None
