"""Every image policy rule, with its default (Glance's secure-RBAC defaults)."""

from kumo.common.policy import RuleDefault
from kumo.image.policies import base, discovery, images, metadefs

RULES: list[RuleDefault] = [*base.RULES, *images.RULES, *discovery.RULES, *metadefs.RULES]
