"""The image proxy's rule: Nova checks no policy there (Glance does), so any user."""

from kumo.common.policy import RuleDefault

RULES = [
    RuleDefault(
        "os_compute_api:images",
        "@",
        "List, show, delete images and their metadata through Nova's image proxy "
        "(Nova itself checks nothing: the image API decides with the caller's token)",
    ),
]
