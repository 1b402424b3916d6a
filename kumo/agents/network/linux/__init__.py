"""Thin typed wrappers over iproute2 (``ip``) and nftables (``nft``).

iproute2 rather than pyroute2: it adds no dependency, ``ip -j`` gives JSON
for every listing, ``ip netns exec`` is also how dnsmasq and ``nft`` are run
inside namespaces, and an operator can replay any failing command by hand.
"""
