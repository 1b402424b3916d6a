"""Discovery and task rules (``glance/policies/discovery.py``, ``tasks.py``)."""

from kumo.common.policy import RuleDefault
from kumo.image.policies import base

RULES = [
    RuleDefault(
        "stores_info_detail",
        base.ADMIN,
        "Expose store specific information",
        (("GET", "/v2/info/stores/detail"),),
    ),
    RuleDefault(
        "tasks_api_access",
        base.ADMIN,
        "Restrict the tasks API to admins (Kumo runs no tasks)",
        (("GET", "/v2/tasks"),),
    ),
    RuleDefault("get_tasks", base.DEFAULT, "List tasks for all images", (("GET", "/v2/tasks"),)),
    RuleDefault("add_task", base.DEFAULT, "List tasks for all images", (("POST", "/v2/tasks"),)),
    RuleDefault(
        "get_image_info",
        "",
        "Kumo: read the image service's discovery documents (import methods, stores, usage, "
        "schemas); any authenticated caller, as in Glance.",
        (("GET", "/v2/info/import"), ("GET", "/v2/schemas/image")),
    ),
]
