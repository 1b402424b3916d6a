"""One OpenAPI document per service, from the route tables `kumo serve` mounts.

    .venv/bin/python tools/fuzz/openapi.py [--out reports/openapi]

FastAPI already derives an OpenAPI 3.1 document from each service's routes and
pydantic request models (and serves it at ``/<prefix>/openapi.json``). That
document describes FastAPI's defaults, not what Kumo answers, so it is adjusted
here before a fuzzer judges responses by it:

- ``servers`` names the service's prefix, so paths resolve against the mount;
- the token is declared (``X-Auth-Token``) and required except on ``@public`` routes;
- FastAPI's ``422`` (never sent: validation errors are 400 in each service's
  format) is replaced by a ``default`` response whose schema is the service's
  own error body, so every 4xx is checked against Keystone/Nova/Neutron/
  Placement/Glance error formats;
- public GETs (version discovery) may answer 300 Multiple Choices;
- the microversion header is declared on microversioned operations;
- every ``{placeholder}`` of a path is declared as a path parameter (some
  handlers read them from the request, which FastAPI does not see).

The documents are generated, not checked in: five services change at once, and
``tests/meta/test_openapi.py`` checks the generator covers every route instead.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run as a script: make `tools.fuzz` importable
    sys.path.insert(0, str(REPO))

from tools.fuzz.routes import Operation, Service, build_services  # noqa: E402

OUT = REPO / "reports" / "openapi"
TOKEN_SCHEME = "keystoneToken"  # noqa: S105 - a scheme name, not a secret

_STR = {"type": "string"}
_INT = {"type": "integer"}
#: Each prefix's error body as a JSON schema (the shapes ``routes.ERROR_FORMATS`` checks).
ERROR_SCHEMAS: dict[str, dict[str, Any]] = {
    "/identity": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "title", "message"],
                "properties": {"code": _INT, "title": _STR, "message": _STR},
            }
        },
    },
    "/compute": {
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "additionalProperties": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": _INT, "message": _STR},
        },
    },
    "/networking": {
        "type": "object",
        "required": ["NeutronError"],
        "properties": {
            "NeutronError": {
                "type": "object",
                "required": ["type", "message", "detail"],
                "properties": {"type": _STR, "message": _STR, "detail": _STR},
            }
        },
    },
    "/placement": {
        "type": "object",
        "required": ["errors"],
        "properties": {
            "errors": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["status", "title", "detail", "code"],
                    "properties": {"status": _INT, "title": _STR, "detail": _STR, "code": _STR},
                },
            }
        },
    },
    "/image": {
        "type": "object",
        "required": ["code", "title", "message"],
        "properties": {"code": _STR, "title": _STR, "message": _STR},
    },
}


def _error_name(service: Service) -> str:
    return f"{service.name.capitalize()}Error"


def document(service: Service) -> dict[str, Any]:
    """The adjusted OpenAPI document of one service (see the module docstring)."""
    doc = copy.deepcopy(service.app.openapi())
    doc["servers"] = [{"url": service.prefix}]
    components = doc.setdefault("components", {})
    components.setdefault("securitySchemes", {})[TOKEN_SCHEME] = {
        "type": "apiKey",
        "in": "header",
        "name": "X-Auth-Token",
        "description": "A Keystone token (POST /identity/v3/auth/tokens).",
    }
    error_schema = ERROR_SCHEMAS.get(service.prefix, {"type": "object"})
    components.setdefault("schemas", {})[_error_name(service)] = error_schema
    error_ref = {"$ref": f"#/components/schemas/{_error_name(service)}"}
    for op in service.operations():
        entry = doc.get("paths", {}).get(op.path, {}).get(op.method.lower())
        if entry is not None:
            _adjust(service, op, entry, error_ref)
    if not any(k != "HTTPValidationError" for k in components.get("schemas", {})):
        components["schemas"].pop("HTTPValidationError", None)
    return doc


def _adjust(service: Service, op: Operation, entry: dict[str, Any], error_ref: Any) -> None:
    entry["security"] = [] if op.public else [{TOKEN_SCHEME: []}]
    # Handlers that read a placeholder from the request (not as an argument) leave it
    # out of FastAPI's document; every placeholder is a required string parameter.
    params = entry.setdefault("parameters", [])
    declared = {p.get("name") for p in params if p.get("in") == "path"}
    for name in re.findall(r"\{([^}/]+)\}", op.path):
        if name not in declared:
            params.append(
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            )
    responses = entry.setdefault("responses", {})
    responses.pop("422", None)
    if op.public and op.method == "GET":
        # Version discovery at a service root answers 300 Multiple Choices, as upstream.
        responses.setdefault(
            "300",
            {
                "description": "Multiple choices (version discovery).",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
        )
    responses["default"] = {
        "description": f"An error, in {service.name}'s error format.",
        "content": {"application/json": {"schema": error_ref}},
    }
    if service.microversioned(op) and service.versions is not None:
        v = service.versions
        entry.setdefault("parameters", []).append(
            {
                "name": "OpenStack-API-Version",
                "in": "header",
                "required": False,
                "description": f"'{v.service} X.Y', {v.min} to {v.max}; 406 outside.",
                "schema": {"type": "string", "pattern": rf"^{v.service} [0-9]+\.[0-9]+$"},
            }
        )


def write_all(out: Path = OUT, services: list[Service] | None = None) -> list[Path]:
    """Write ``<out>/<service>.json`` for every mounted service; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for service in services if services is not None else build_services():
        path = out / f"{service.name}.json"
        path.write_text(json.dumps(document(service), indent=1, sort_keys=True) + "\n")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Write every service's document and say how many operations each has."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    services = build_services()
    for service, path in zip(services, write_all(args.out, services), strict=True):
        print(f"{path}: {len(service.operations())} operations")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
