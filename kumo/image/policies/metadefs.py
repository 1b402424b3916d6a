"""Metadata definition rules (``glance/policies/metadef.py``), secure-RBAC defaults."""

from kumo.common.policy import RuleDefault
from kumo.image.policies import base

METADEF_ADMIN = "rule:metadef_admin"
#: Admins, or readers of the namespace's project or of a public namespace.
ADMIN_OR_PROJECT_READER_GET_NAMESPACE = (
    f"{base.ADMIN} or (role:reader and (project_id:%(project_id)s or "
    f"{base.PUBLIC_VISIBILITY_CHECK}))"
)

NSS = "/v2/metadefs/namespaces"
NS = NSS + "/{namespace_name}"


def _rule(name: str, check: str, description: str, method: str, path: str) -> RuleDefault:
    return RuleDefault(name, check, description, ((method, path),))


RULES = [
    RuleDefault("metadef_default", "", "Defines the default rule for metadef reads."),
    RuleDefault("metadef_admin", base.ADMIN, "Defines the rule for metadef changes."),
    _rule(
        "get_metadef_namespace",
        ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
        "Get a specific namespace.",
        "GET",
        NS,
    ),
    _rule("get_metadef_namespaces", base.ADMIN_OR_PROJECT_READER, "List namespace.", "GET", NSS),
    _rule("modify_metadef_namespace", METADEF_ADMIN, "Modify an existing namespace.", "PUT", NS),
    _rule("add_metadef_namespace", METADEF_ADMIN, "Create a namespace.", "POST", NSS),
    _rule("delete_metadef_namespace", METADEF_ADMIN, "Delete a namespace.", "DELETE", NS),
    _rule(
        "get_metadef_object",
        ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
        "Get a specific object from a namespace.",
        "GET",
        NS + "/objects/{object_name}",
    ),
    _rule(
        "get_metadef_objects",
        ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
        "Get objects from a namespace.",
        "GET",
        NS + "/objects",
    ),
    _rule(
        "modify_metadef_object",
        METADEF_ADMIN,
        "Update an object within a namespace.",
        "PUT",
        NS + "/objects/{object_name}",
    ),
    _rule(
        "add_metadef_object",
        METADEF_ADMIN,
        "Create an object within a namespace.",
        "POST",
        NS + "/objects",
    ),
    _rule(
        "delete_metadef_object",
        METADEF_ADMIN,
        "Delete an object within a namespace.",
        "DELETE",
        NS + "/objects/{object_name}",
    ),
    _rule(
        "list_metadef_resource_types",
        ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
        "List meta definition resource types.",
        "GET",
        "/v2/metadefs/resource_types",
    ),
    _rule(
        "get_metadef_resource_type",
        ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
        "Get meta definition resource types associations.",
        "GET",
        NS + "/resource_types",
    ),
    _rule(
        "add_metadef_resource_type_association",
        METADEF_ADMIN,
        "Create meta definition resource types association.",
        "POST",
        NS + "/resource_types",
    ),
    _rule(
        "remove_metadef_resource_type_association",
        METADEF_ADMIN,
        "Delete meta definition resource types association.",
        "DELETE",
        NS + "/resource_types/{name}",
    ),
    _rule(
        "get_metadef_property",
        ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
        "Get a specific meta definition property.",
        "GET",
        NS + "/properties/{property_name}",
    ),
    _rule(
        "get_metadef_properties",
        ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
        "List meta definition properties.",
        "GET",
        NS + "/properties",
    ),
    _rule(
        "modify_metadef_property",
        METADEF_ADMIN,
        "Update meta definition property.",
        "PUT",
        NS + "/properties/{property_name}",
    ),
    _rule(
        "add_metadef_property",
        METADEF_ADMIN,
        "Create meta definition property.",
        "POST",
        NS + "/properties",
    ),
    _rule(
        "remove_metadef_property",
        METADEF_ADMIN,
        "Delete meta definition property.",
        "DELETE",
        NS + "/properties/{property_name}",
    ),
    _rule(
        "get_metadef_tag",
        ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
        "Get tag definition.",
        "GET",
        NS + "/tags/{tag_name}",
    ),
    _rule(
        "get_metadef_tags",
        ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
        "List tag definitions.",
        "GET",
        NS + "/tags",
    ),
    _rule(
        "modify_metadef_tag",
        METADEF_ADMIN,
        "Update tag definition.",
        "PUT",
        NS + "/tags/{tag_name}",
    ),
    _rule("add_metadef_tag", METADEF_ADMIN, "Add tag definition.", "POST", NS + "/tags/{tag_name}"),
    _rule("add_metadef_tags", METADEF_ADMIN, "Create tag definitions.", "POST", NS + "/tags"),
    _rule(
        "delete_metadef_tag",
        METADEF_ADMIN,
        "Delete tag definition.",
        "DELETE",
        NS + "/tags/{tag_name}",
    ),
    _rule("delete_metadef_tags", METADEF_ADMIN, "Delete tag definitions.", "DELETE", NS + "/tags"),
]
