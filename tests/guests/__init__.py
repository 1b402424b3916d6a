"""Slow real-guest tests (`make test-guests`): the full Debian guest with the real cloud-init."""
