"""dnsmasq's lease file forgets an address the API gave another port (no root needed)."""

from __future__ import annotations

from pathlib import Path

from kumo.agents.network.dhcp import prune_leases

HOSTS = (
    "fa:16:3e:00:00:02,set:pabc,host-10-0-0-3,10.0.0.3\nfa:16:3e:00:00:09,set:pdef,h,[fd00::9]\n"
)


def test_a_lease_of_a_deleted_ports_mac_for_a_reused_address_goes(tmp_path: Path) -> None:
    leases = tmp_path / "leases"
    leases.write_text(
        "1764460000 fa:16:3e:00:00:01 10.0.0.3 old-host 01:fa:16:3e:00:00:01\n"  # deleted port
        "1764460000 fa:16:3e:00:00:02 10.0.0.4 host 01:fa:16:3e:00:00:02\n"  # moved address
        "1764460000 FA:16:3E:00:00:02 10.0.0.3 host-10-0-0-3 *\n"  # still paired: kept
        "duid 00:01:00:01:2c:00:00:00:fa:16:3e:00:00:09\n"
        "1764460000 1234 fd00::9 h 00:01:00:01\n"
    )
    assert prune_leases(leases, HOSTS) is True
    assert leases.read_text().splitlines() == [
        "1764460000 FA:16:3E:00:00:02 10.0.0.3 host-10-0-0-3 *",
        "duid 00:01:00:01:2c:00:00:00:fa:16:3e:00:00:09",
        "1764460000 1234 fd00::9 h 00:01:00:01",
    ]
    assert prune_leases(leases, HOSTS) is False  # nothing left to drop
    assert prune_leases(tmp_path / "none", HOSTS) is False
