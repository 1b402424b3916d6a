"""Image rules (``glance/policies/image.py``), secure-RBAC defaults."""

from kumo.common.policy import RuleDefault
from kumo.image.policies import base

IMAGES = "/v2/images"
IMG = "/v2/images/{image_id}"

RULES = [
    RuleDefault(
        "add_image",
        base.ADMIN_OR_PROJECT_MEMBER_CREATE_IMAGE,
        "Create new image",
        (("POST", IMAGES),),
    ),
    RuleDefault(
        "delete_image", base.ADMIN_OR_PROJECT_MEMBER, "Deletes the image", (("DELETE", IMG),)
    ),
    RuleDefault(
        "get_image", base.ADMIN_OR_PROJECT_READER_GET_IMAGE, "Get specified image", (("GET", IMG),)
    ),
    RuleDefault(
        "get_images", base.ADMIN_OR_PROJECT_READER, "Get all available images", (("GET", IMAGES),)
    ),
    RuleDefault(
        "modify_image", base.ADMIN_OR_PROJECT_MEMBER, "Updates given image", (("PATCH", IMG),)
    ),
    RuleDefault("publicize_image", base.ADMIN, "Publicize given image", (("PATCH", IMG),)),
    RuleDefault(
        "communitize_image",
        base.ADMIN_OR_PROJECT_MEMBER,
        "Communitize given image",
        (("PATCH", IMG),),
    ),
    RuleDefault(
        "download_image",
        base.ADMIN_OR_PROJECT_MEMBER_DOWNLOAD_IMAGE,
        "Downloads given image",
        (("GET", IMG + "/file"),),
    ),
    RuleDefault(
        "upload_image",
        base.ADMIN_OR_PROJECT_MEMBER,
        "Uploads data to specified image",
        (("PUT", IMG + "/file"), ("PUT", IMG + "/stage")),
    ),
    RuleDefault(
        "deactivate",
        base.ADMIN_OR_PROJECT_MEMBER,
        "Deactivate image",
        (("POST", IMG + "/actions/deactivate"),),
    ),
    RuleDefault(
        "reactivate",
        base.ADMIN_OR_PROJECT_MEMBER,
        "Reactivate image",
        (("POST", IMG + "/actions/reactivate"),),
    ),
    RuleDefault(
        "add_member",
        base.ADMIN_OR_PROJECT_MEMBER,
        "Create image member",
        (("POST", IMG + "/members"),),
    ),
    RuleDefault(
        "delete_member",
        base.ADMIN_OR_PROJECT_MEMBER,
        "Delete image member",
        (("DELETE", IMG + "/members/{member_id}"),),
    ),
    RuleDefault(
        "get_member",
        base.ADMIN_OR_PROJECT_READER_OR_SHARED_MEMBER,
        "Show image member details",
        (("GET", IMG + "/members/{member_id}"),),
    ),
    RuleDefault(
        "get_members",
        base.ADMIN_OR_PROJECT_READER_OR_SHARED_MEMBER,
        "List image members",
        (("GET", IMG + "/members"),),
    ),
    RuleDefault(
        "modify_member",
        base.ADMIN_OR_SHARED_MEMBER,
        "Update image member",
        (("PUT", IMG + "/members/{member_id}"),),
    ),
    RuleDefault("manage_image_cache", base.ADMIN, "Manage image cache", (("GET", "/v2/cache"),)),
]
