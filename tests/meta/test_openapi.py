"""The OpenAPI documents ``make openapi`` writes describe every route of every service.

The documents are generated from the route tables (``tools/fuzz/openapi.py``), not
checked in, so they cannot go stale; what can go wrong is a route the generator
misses, or a body the document cannot describe (then the fuzzer sends nothing
useful to it). These tests walk the app ``kumo serve`` builds, so a service's
routes are checked the moment it registers them.
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from kumo.common.schemas import RequestModel
from tools.fuzz.openapi import document, write_all
from tools.fuzz.routes import Operation, Service, build_services

SERVICES = build_services()
BY_NAME = {s.name: s for s in SERVICES}
#: Operations still being built whose raw body is not declared yet (strict: remove when fixed).
KNOWN_UNDECLARED = {
    "PATCH /image/v2/images/{image_id}": "JSON-patch body read raw; image helper to declare it",
}
#: Calls a handler uses to read a body FastAPI does not see (so no schema describes it).
RAW_BODY_READS = ("request.json(", "request.body(", "request.stream(", "request.form(")


def _ids(services: list[Service]) -> list[str]:
    return [s.name for s in services]


def test_every_service_is_described() -> None:
    assert {"identity", "compute", "image", "networking", "placement"} <= set(BY_NAME)
    assert len(BY_NAME["identity"].operations()) > 100


@pytest.mark.parametrize("service", SERVICES, ids=_ids(SERVICES))
def test_every_operation_is_in_the_document(service: Service) -> None:
    doc = document(service)
    missing = [
        op.label
        for op in service.operations()
        if op.method.lower() not in doc["paths"].get(op.path, {})
    ]
    assert not missing, "operations missing from the document:\n" + "\n".join(missing)
    assert doc["servers"] == [{"url": service.prefix}]
    for op in service.operations():
        entry = doc["paths"][op.path][op.method.lower()]
        declared = {p["name"] for p in entry.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"\{([^}/]+)\}", op.path)), op.label


@pytest.mark.parametrize("service", SERVICES, ids=_ids(SERVICES))
def test_every_operation_documents_its_security_and_errors(service: Service) -> None:
    doc = document(service)
    for op in service.operations():
        entry = doc["paths"][op.path][op.method.lower()]
        assert entry["security"] == ([] if op.public else [{"keystoneToken": []}]), op.label
        assert "422" not in entry["responses"], op.label  # validation errors are 400s
        error = entry["responses"]["default"]["content"]["application/json"]["schema"]
        assert error == {"$ref": f"#/components/schemas/{service.name.capitalize()}Error"}


def _body_model(op: Operation) -> type[BaseModel] | None:
    field = op.route.body_field
    annotation = getattr(getattr(field, "field_info", None), "annotation", None)
    return annotation if inspect.isclass(annotation) and issubclass(annotation, BaseModel) else None


@pytest.mark.parametrize("service", SERVICES, ids=_ids(SERVICES))
def test_every_body_has_a_schema(service: Service) -> None:
    """A route that reads a body declares it: as a RequestModel, or in openapi_extra."""
    doc = document(service)
    problems: list[str] = []
    known: list[str] = []
    for op in service.operations():
        entry = doc["paths"][op.path][op.method.lower()]
        if op.has_body_model:
            schema = entry.get("requestBody", {}).get("content", {})
            if not any("schema" in media for media in schema.values()):
                problems.append(f"{op.label}: body model without a schema in the document")
            model = _body_model(op)
            if model is not None and not issubclass(model, RequestModel):
                problems.append(f"{op.label}: {model.__name__} does not derive RequestModel")
            continue
        try:
            source = inspect.getsource(op.route.endpoint)
        except (OSError, TypeError):
            continue
        if any(call in source for call in RAW_BODY_READS) and "requestBody" not in entry:
            if op.label in KNOWN_UNDECLARED:
                known.append(op.label)
                continue
            problems.append(
                f"{op.label}: reads the raw body but declares no requestBody "
                "(add openapi_extra={'requestBody': …} to its route)"
            )
    assert not problems, "\n".join(problems)
    fixed = [k for k in KNOWN_UNDECLARED if k.split()[1].startswith(service.prefix)]
    fixed = [k for k in fixed if k not in known]
    assert not fixed, f"declared now; remove from KNOWN_UNDECLARED: {fixed}"
    if known:
        pytest.xfail("; ".join(f"{k}: {KNOWN_UNDECLARED[k]}" for k in known))


def test_generated_files_match_the_documents(tmp_path: Path) -> None:
    written = write_all(tmp_path, SERVICES)
    assert {p.stem for p in written} == set(BY_NAME)
    for path in written:
        assert json.loads(path.read_text()) == json.loads(json.dumps(document(BY_NAME[path.stem])))


def test_each_service_serves_its_document(cloud: TestClient) -> None:
    """FastAPI's own document is served at /<prefix>/openapi.json, without a token."""
    for service in SERVICES:
        resp = cloud.get(f"{service.prefix}/openapi.json")
        assert resp.status_code == 200, (service.prefix, resp.text[:200])
        served = resp.json()
        assert set(served.get("paths", {})) == set(service.app.openapi().get("paths", {}))
