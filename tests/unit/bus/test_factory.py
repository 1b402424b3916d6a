"""``get_bus`` picks the implementation from ``transport_url``; buses refuse use before start."""

from __future__ import annotations

import pytest

from kumo.common.bus import BusError, InProcessBus, get_bus
from kumo.common.bus.rabbit import RabbitBus


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("inproc://", InProcessBus),
        ("amqp://guest:guest@127.0.0.1:5672/", RabbitBus),
        ("amqps://user:pw@rabbit.example:5671/kumo", RabbitBus),
    ],
)
def test_transport_url_picks_the_bus(url: str, kind: type) -> None:
    assert isinstance(get_bus(url), kind)


@pytest.mark.parametrize("url", ["kafka://host:9092", "", "127.0.0.1:5672"])
def test_unknown_transport_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="transport_url"):
        get_bus(url)


@pytest.mark.parametrize("url", ["inproc://", "amqp://guest:guest@127.0.0.1:5672/"])
async def test_bus_must_be_started_first(url: str) -> None:
    bus = get_bus(url)
    with pytest.raises(BusError, match="not started"):
        await bus.cast("topic", "method", {})
    with pytest.raises(BusError, match="not started"):
        await bus.serve("topic", object())
