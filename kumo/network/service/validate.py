"""Converters and validators for request attributes, in Neutron's words.

Each function takes the raw JSON value and returns the converted one, or
raises ``ValueError`` with the reason Neutron gives (the API turns it into
``Invalid input for <attr>. Reason: <reason>.``).
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable
from typing import Any

_MAC = re.compile(r"^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def to_bool(value: Any) -> bool:
    """Neutron's ``convert_to_boolean``: bools, 0/1 and 'true'/'false' strings."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    raise ValueError(f"'{value}' cannot be converted to boolean")


def string(max_len: int = 255) -> Callable[[Any], str]:
    """A string of at most ``max_len`` characters."""

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(f"'{value}' is not a valid string")
        if len(value) > max_len:
            raise ValueError(f"'{value}' exceeds maximum length of {max_len}")
        return value

    return check


def uuid_str(value: Any) -> str:
    """A UUID in its canonical text form."""
    if not isinstance(value, str):
        raise ValueError(f"'{value}' is not a valid UUID")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError(f"'{value}' is not a valid UUID") from None


def uuid_or_none(value: Any) -> str | None:
    """A UUID, or None."""
    return None if value is None else uuid_str(value)


def uuid_list(value: Any) -> list[str]:
    """A list of unique UUIDs."""
    if not isinstance(value, list):
        raise ValueError(f"'{value}' is not a list")
    out = [uuid_str(v) for v in value]
    return list(dict.fromkeys(out))


def integer(low: int | None = None, high: int | None = None) -> Callable[[Any], int]:
    """An integer (or its decimal text) within [low, high]."""

    def check(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError(f"'{value}' is not an integer")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"'{value}' is not an integer") from None
        if isinstance(value, float) and value != number:
            raise ValueError(f"'{value}' is not an integer")
        if low is not None and number < low:
            raise ValueError(f"'{number}' is too small - must be at least '{low}'")
        if high is not None and number > high:
            raise ValueError(f"'{number}' is too large - must be no larger than '{high}'")
        return number

    return check


def ip_version(value: Any) -> int:
    """4 or 6 (also as text, as Neutron's ``convert_to_int`` accepts)."""
    version = integer()(value)
    if version not in (4, 6):
        raise ValueError(f"'{value}' is not in [4, 6]")
    return version


def optional(inner: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``inner``, or None."""

    def check(value: Any) -> Any:
        return None if value is None else inner(value)

    return check


def none_as_empty(inner: Callable[[Any], list[Any]]) -> Callable[[Any], list[Any]]:
    """``inner``, with None meaning an empty list (Neutron's ``convert_none_to_empty_list``)."""

    def check(value: Any) -> list[Any]:
        return [] if value is None else inner(value)

    return check


def one_of(*choices: Any) -> Callable[[Any], Any]:
    """One of ``choices``."""

    def check(value: Any) -> Any:
        if value not in choices:
            raise ValueError(f"'{value}' is not in {list(choices)}")
        return value

    return check


def ip_address(value: Any) -> str:
    """An IPv4 or IPv6 address, normalised."""
    if not isinstance(value, str):
        raise ValueError(f"'{value}' is not a valid IP address")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"'{value}' is not a valid IP address") from None


def ip_or_none(value: Any) -> str | None:
    """An IP address, or None."""
    return None if value is None else ip_address(value)


def cidr(value: Any) -> str:
    """An IP network in CIDR form, normalised; host bits set are refused, as Neutron does."""
    if not isinstance(value, str):
        raise ValueError(f"'{value}' is not a valid IP subnet")
    try:
        net = ipaddress.ip_network(value, strict=False)
        address = ipaddress.ip_address(value.split("/")[0])
    except ValueError:
        raise ValueError(f"'{value}' is not a valid IP subnet") from None
    if "/" not in value or address != net.network_address:
        raise ValueError(f"'{value}' isn't a recommended CIDR, '{net}' is recommended")
    return str(net)


def ip_prefix(value: Any) -> str:
    """An address or CIDR (remote_ip_prefix); a bare address becomes a host prefix.

    Host bits are kept as given (``10.2.3.124/24`` stays so), as Neutron stores it
    (netaddr's form) and tempest checks; the data plane matches the network.
    """
    if not isinstance(value, str):
        raise ValueError(f"'{value}' is not a valid IP prefix")
    try:
        interface = ipaddress.ip_interface(value)
    except ValueError:
        raise ValueError(f"'{value}' is not a valid IP prefix") from None
    return f"{interface.ip}/{interface.network.prefixlen}"


def mac_address(value: Any) -> str:
    """A unicast MAC address, lower case with colons."""
    if not isinstance(value, str) or not _MAC.match(value):
        raise ValueError(f"'{value}' is not a valid MAC address")
    mac = value.lower().replace("-", ":")
    if mac == "00:00:00:00:00:00" or int(mac[:2], 16) & 1:
        raise ValueError(f"'{value}' is not a valid MAC address")
    return mac


def dict_list(
    keys: dict[str, Callable[[Any], Any]], required: tuple[str, ...] = ()
) -> Callable[[Any], list[dict[str, Any]]]:
    """A list of dicts with only ``keys`` (each converted), ``required`` ones present."""

    def check(value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            raise ValueError(f"'{value}' is not a list")
        out = []
        for item in value:
            if not isinstance(item, dict):
                raise ValueError(f"'{item}' is not a dictionary")
            extra = sorted(set(item) - set(keys))
            if extra:
                raise ValueError(f"Unrecognized keys {extra} in '{item}'")
            for key in required:
                if key not in item:
                    raise ValueError(
                        f"Validation of dictionary's keys failed. Expected keys: "
                        f"{set(required)} Provided keys: {set(item)}"
                    )
            out.append({k: keys[k](v) for k, v in item.items()})
        return out

    return check


def nameservers(value: Any) -> list[str]:
    """A list of unique DNS server addresses."""
    if not isinstance(value, list):
        raise ValueError(f"'{value}' is not a list")
    out = [ip_address(v) for v in value]
    if len(set(out)) != len(out):
        raise ValueError(f"Duplicate nameserver '{value}'")
    return out


def host_routes(value: Any) -> list[dict[str, str]]:
    """A list of {destination: cidr, nexthop: ip}, without duplicates."""
    routes = dict_list({"destination": cidr, "nexthop": ip_address}, ("destination", "nexthop"))(
        value
    )
    seen = set()
    for r in routes:
        key = (r["destination"], r["nexthop"])
        if key in seen:
            raise ValueError(f"Duplicate hostroute '{r}'")
        seen.add(key)
    return routes


def tags(value: Any) -> list[str]:
    """A list of tags: non-empty strings of at most 255 characters, without commas."""
    if not isinstance(value, list):
        raise ValueError(f"'{value}' is not a list")
    for tag in value:
        tag_text(tag)
    return sorted(set(value))


def tag_text(value: Any) -> str:
    """One tag."""
    if not isinstance(value, str) or not value or len(value) > 255 or "," in value:
        raise ValueError(f"'{value}' is not a valid tag")
    return value


def no_control(value: str, what: str) -> str:
    """Refuse control characters (newlines would inject configuration lines)."""
    if _CONTROL.search(value):
        raise ValueError(f"{what} '{value!r}' contains control characters")
    return value


#: dnsmasq's DHCP option names (``dnsmasq --help dhcp`` and ``dhcp6``).
DHCP_OPTION_NAMES = frozenset(
    """
    FQDN T1 T2 agent-id all-subnets-local arp-timeout boot-file-size bootfile-name
    bootfile-param bootfile-url broadcast classless-static-route client-arch client-id
    client-interface-id client-machine-id default-ttl dns-server domain-name domain-search
    ethernet-encap extension-path hostname information-refresh-time ip-forward-enable
    irc-server lease-time log-server lpr-server max-datagram-reassembly max-message-size
    message-type mobile-ip-home mtu netbios-dd netbios-nodetype netbios-ns netbios-scope
    netmask nis+-domain nis+-server nis-domain nis-server nntp-server
    non-local-source-routing ntp-server option-overload parameter-request policy-filter
    pop3-server posix-timezone rapid-commit requested-address root-path router
    router-discovery router-solicitation server-identifier server-ip-address sip-server
    smtp-server sntp-server static-route subnet-select swap-server tcp-keepalive tcp-ttl
    tftp-server tftp-server-address time-offset trailer-encapsulation tzdb-timezone
    user-class vendor-class vendor-encap vendor-id-encap x-windows-dm x-windows-fs
    """.split()  # noqa: SIM905  (a word list reads best as words)
)


def extra_dhcp_opts(value: Any) -> list[dict[str, Any]]:
    """Neutron's extra DHCP options, refusing anything that could inject dnsmasq config.

    ``opt_name`` must be a known option name or number (optionally ``option:``/
    ``option6:`` prefixed); ``opt_value`` a string without control characters.
    """
    if not isinstance(value, list):
        raise ValueError(f"'{value}' is not a list")
    out: list[dict[str, Any]] = []
    for item in value:
        if not isinstance(item, dict):
            raise ValueError(f"'{item}' is not a dictionary")
        extra = sorted(set(item) - {"opt_name", "opt_value", "ip_version"})
        if extra:
            raise ValueError(f"Unrecognized keys {extra} in '{item}'")
        name = item.get("opt_name")
        if not isinstance(name, str) or not name:
            raise ValueError(f"'{name}' is not a valid DHCP option name")
        version = item.get("ip_version", 4)
        try:
            version = int(version)
        except (TypeError, ValueError):
            raise ValueError(f"'{version}' is not a valid IP version") from None
        if version not in (4, 6):
            raise ValueError(f"'{version}' is not a valid IP version")
        bare = name.split(":", 1)[1] if name.startswith(("option:", "option6:")) else name
        if bare.isdigit():
            if not 1 <= int(bare) <= (254 if version == 4 else 65535):
                raise ValueError(f"'{name}' is not a valid DHCP option number")
        elif bare not in DHCP_OPTION_NAMES:
            raise ValueError(f"'{name}' is not a known DHCP option")
        opt_value = item.get("opt_value")
        if opt_value is not None:
            if not isinstance(opt_value, str) or len(opt_value) > 255:
                raise ValueError(f"'{opt_value}' is not a valid DHCP option value")
            no_control(opt_value, "DHCP option value")
        out.append({"opt_name": name, "opt_value": opt_value, "ip_version": version})
    return out


def address_pairs(value: Any) -> list[dict[str, str]]:
    """Allowed address pairs: {ip_address: address or cidr, mac_address?}, no duplicates."""
    if not isinstance(value, list):
        raise ValueError(f"'{value}' is not a list")
    out = []
    seen = set()
    for item in value:
        if not isinstance(item, dict) or "ip_address" not in item:
            raise ValueError("AllowedAddressPair must contain ip_address")
        extra = sorted(set(item) - {"ip_address", "mac_address"})
        if extra:
            raise ValueError(f"Unrecognized attribute(s) '{', '.join(extra)}'")
        ip = item["ip_address"]
        if not isinstance(ip, str):
            raise ValueError(f"'{ip}' is not a valid IP address")
        try:
            ip_text = (
                str(ipaddress.ip_address(ip))
                if "/" not in ip
                else str(ipaddress.ip_network(ip, strict=False))
            )
        except ValueError:
            raise ValueError(f"'{ip}' is not a valid IP address") from None
        pair = {"ip_address": ip_text}
        if item.get("mac_address") is not None:
            pair["mac_address"] = mac_address(item["mac_address"])
        key = (pair["ip_address"], pair.get("mac_address"))
        if key in seen:
            raise ValueError("Request contains duplicate address pair")
        seen.add(key)
        out.append(pair)
    return out
