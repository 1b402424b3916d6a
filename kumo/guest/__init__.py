"""The Kumo guest: the offline-built guest image and the config drive it reads."""
