"""Rules for services, endpoints and regions."""

from kumo.identity.policies.base import ADMIN_OR_SYSTEM_READER, rule

ADMIN = "rule:admin_required"
_COLLECTIONS = {"service": "/v3/services", "endpoint": "/v3/endpoints", "region": "/v3/regions"}


def _rule_name(verb: str, noun: str) -> str:
    # Keystone's list rules use the plural: identity:list_services, list_regions, …
    return f"identity:{verb}_{noun}s" if verb == "list" else f"identity:{verb}_{noun}"


def _operations(verb: str, noun: str) -> tuple[tuple[str, str], ...]:
    collection = _COLLECTIONS[noun]
    member = f"{collection}/{{{noun}_id}}"
    by_verb = {
        "get": (("GET", member),),
        "list": (("GET", collection),),
        # Regions may also be created with a chosen id: PUT /v3/regions/{region_id}.
        "create": (("POST", collection),) + ((("PUT", member),) if noun == "region" else ()),
        "update": (("PATCH", member),),
        "delete": (("DELETE", member),),
    }
    return by_verb[verb]


def _check(verb: str, noun: str) -> str:
    if verb in ("get", "list"):
        # Anyone authenticated may read regions, as in Keystone.
        return "" if noun == "region" else ADMIN_OR_SYSTEM_READER
    return ADMIN


RULES = [
    rule(
        _rule_name(verb, noun),
        _check(verb, noun),
        f"{verb.title()} {noun}{'s' if verb == 'list' else ''}.",
        *_operations(verb, noun),
    )
    for noun in ("service", "endpoint", "region")
    for verb in ("get", "list", "create", "update", "delete")
]
