"""Every route of every service refuses bad input with a 4xx in its own format.

The routes come from the app ``kumo serve`` builds (``tools/fuzz/routes.py``), so
a service's routes are probed as soon as it registers them; the probes are the
hand-written ones of ``tools/fuzz/probes.py`` (bodies over the limit, 10,000-deep
JSON, invalid UTF-8, NUL bytes, wrong Content-Type, path traversal in ids, absurd
limits, huge headers, unknown microversions). One test per kind of
probe sends that kind to every operation of every service and lists every failure at once; the
kinds refused in front of every route alike (body limit, header size,
microversion) go to a sample of operations, and `make fuzz` sends everything
to every operation.

``KNOWN`` holds failures found in services still being built, each with its
reason: such a test is reported as xfail, and fails (strict) as soon as the
failure is gone, so the entry gets removed rather than forgotten.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import issue
from tests.security.helpers import SERVICES
from tools.fuzz.probes import ROUTE_INDEPENDENT, Probe, judge, probes_for, send
from tools.fuzz.routes import Service

KINDS = (
    "oversized_body",
    "deep_nesting",
    "deep_nesting_object",
    "invalid_utf8",
    "nul_in_body",
    "wrong_content_type",
    "not_json",
    "odd_path_id",
    "huge_header",
    "bad_limit",
    "nul_in_query",
    "bad_query",
    "unknown_microversion",
)
#: How many operations get the probes that are refused in front of every route alike.
SAMPLE = 6
#: (probe kind, probe label) → why it still fails; only for services being built.
KNOWN: dict[tuple[str, str], str] = {}

CASES = [
    pytest.param(kind, id=kind)
    for kind in KINDS
    if any(
        probes_for(service, op, frozenset({kind}))
        for service in SERVICES
        for op in service.operations()
    )
]


def _probe_service(
    cloud: TestClient, service: Service, kind: str, token: str
) -> tuple[int, dict[str, str]]:
    """Send ``kind`` probes to the service's operations; (sent, failures by label)."""
    failures: dict[str, str] = {}
    sent = 0
    for op in service.operations():
        if kind in ROUTE_INDEPENDENT and sent >= SAMPLE:
            break  # refused in front of every route alike: a sample of routes will do
        for probe in probes_for(service, op, frozenset({kind}), thorough=False):
            sent += 1
            outcome = send(cloud, probe, token)
            if outcome.problem:
                failures[probe.label] = outcome.problem
    return sent, failures


@pytest.mark.parametrize("kind", CASES)
def test_bad_input_gets_a_4xx_in_the_service_format(cloud: TestClient, kind: str) -> None:
    token = issue(cloud)
    sent = 0
    failures: dict[str, str] = {}
    for service in SERVICES:
        n, found = _probe_service(cloud, service, kind, token)
        sent += n
        failures |= found
    assert sent > 0
    known = {label: why for (k, label), why in KNOWN.items() if k == kind}
    unexpected = {label: p for label, p in failures.items() if label not in known}
    assert not unexpected, f"{len(unexpected)} of {sent} probes failed:\n" + "\n".join(
        f"{label}\n    {problem}" for label, problem in unexpected.items()
    )
    fixed = sorted(set(known) - set(failures))
    assert not fixed, "these no longer fail; remove them from KNOWN:\n" + "\n".join(fixed)
    if failures:
        pytest.xfail("known failures: " + "; ".join(f"{k} ({known[k]})" for k in failures))


def test_the_judge_refuses_5xx_and_foreign_error_formats() -> None:
    identity = next(s for s in SERVICES if s.prefix == "/identity")
    op = next(o for o in identity.operations() if o.method == "POST")
    probe = Probe("not_json", op, "POST", op.url(), content=b"{", expect=frozenset({400, 415}))
    keystone_400 = b'{"error": {"code": 400, "title": "Bad Request", "message": "no"}}'
    assert judge(probe, 400, keystone_400) is None
    assert judge(probe, 500, b'{"error": {"code": 500}}') is not None
    assert judge(probe, 404, b'{"error": {"code": 404, "message": "x"}}') is not None  # status
    assert judge(probe, 400, b'{"NeutronError": {"type": "x"}}') is not None  # format
    assert judge(probe, 400, b"<html>") is not None  # not JSON
