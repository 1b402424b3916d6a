# Kumo: `make up` starts a cloud on this machine; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
CLIENTS := .venv-clients
PY := $(VENV)/bin/python
DEBIAN_PACKAGES := qemu-system-x86 qemu-utils dnsmasq-base nftables iproute2 busybox-static cpio genisoimage \
  linux-image-cloud-amd64 dropbear-bin wrk debootstrap e2fsprogs novnc
SERVICE ?= identity

.PHONY: guest-debian test-guests conformance-qemu
.PHONY: up down status venv clients debs test lint typecheck unit e2e tempest conformance openapi fuzz load chaos bench bench-placement bench-compute bench-guests clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

# Real OpenStack clients live in their own venv: the tests drive them, never imitations.
$(CLIENTS)/.installed:
	$(PYTHON) -m venv $(CLIENTS)
	$(CLIENTS)/bin/pip install -q --upgrade pip
	$(CLIENTS)/bin/pip install -q python-openstackclient openstacksdk tempest
	touch $@

clients: $(CLIENTS)/.installed

# Debian packages for the data plane and guests (only when root; apt-get update first).
debs:
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	  if [ -n "$$missing" ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; fi; \
	else echo "not root: skipping Debian packages ($(DEBIAN_PACKAGES))"; fi

up: venv debs
	$(VENV)/bin/kumo image build
	$(VENV)/bin/kumo up

down:
	$(VENV)/bin/kumo down

status:
	$(VENV)/bin/kumo status

lint: venv
	$(VENV)/bin/ruff check kumo tests benchmarks tools
	$(VENV)/bin/ruff format --check kumo tests benchmarks tools

typecheck: venv
	$(VENV)/bin/mypy kumo

unit: venv
	KUMO_TEST_DATABASES=sqlite,postgres,mysql $(VENV)/bin/pytest -q -p no:cacheprovider -n 2 --dist loadfile tests --ignore=tests/e2e --ignore=tests/agents/network --ignore=tests/guests
	# The data-plane tests share the host's Kumo-prefixed namespaces (one checks that cleanup
	# leaves none), so they run on their own, one at a time.
	KUMO_TEST_DATABASES=sqlite,postgres,mysql $(VENV)/bin/pytest -q -p no:cacheprovider tests/agents/network

e2e: venv clients
	$(VENV)/bin/pytest -q -p no:cacheprovider tests/e2e

test: lint typecheck unit e2e

# A full Debian 12 guest with the real cloud-init, built with debootstrap from the Debian
# mirror apt uses (root; minutes the first time, nothing when already built).
guest-debian: venv debs
	$(PY) tools/guest/build_debian.py --register

# The slow real-guest tests, one guest at a time: the real-QEMU tests of `make test` and the
# Debian guest with the real cloud-init (skipped, saying so, until `make guest-debian` ran).
test-guests: venv
	KUMO_GUEST_BOOT_DEADLINE=$${KUMO_GUEST_BOOT_DEADLINE:-300} $(VENV)/bin/pytest -q -p no:cacheprovider -rs \
	  tests/agents/test_guests.py tests/agents/test_compute_real.py tests/guests
	# A real guest on a second host (a namespace) reached over VXLAN (root).
	KUMO_TEST_GUEST_MULTIHOST=1 KUMO_GUEST_BOOT_DEADLINE=$${KUMO_GUEST_BOOT_DEADLINE:-300} \
	  $(VENV)/bin/pytest -q -p no:cacheprovider -rs tests/agents/network/test_multihost.py

tempest: venv clients
	$(PY) tools/tempest/run.py --service $(SERVICE)

# Every service's tempest API tests; writes reports/conformance.md and one report per service.
conformance: venv clients
	$(PY) tools/tempest/conformance.py

# tempest's tests that need a real guest (the noVNC console), on a QEMU cloud with q35 TCG
# guests; the fake-driver run above reports them as failures with that cause.
conformance-qemu: venv clients debs
	$(PY) tools/tempest/run.py --service compute --virt qemu --ids-file tools/tempest/qemu-compute.txt --concurrency 1 --report reports/conformance-compute-qemu.md

# OpenAPI documents of every service (reports/openapi/), generated from the route tables.
openapi: venv
	$(PY) tools/fuzz/openapi.py

# schemathesis and hand-written bad input against every route of a fresh cloud: zero 5xx.
fuzz: venv
	$(PY) tools/fuzz/run.py --max-examples 20 --max-time 600

# 50 concurrent clients for 60 s on loopback: throughput, latency percentiles, memory.
load: venv
	$(PY) tools/load/run.py --clients 50 --seconds 60

# Kill a Kumo process at every boot-journey step (and in delete, snapshot, resize), cut the
# broker and database links, pull the power; check nothing is stuck or leaked. Then the same
# with real QEMU guests (kills inside the QEMU driver; QEMU processes, instance dirs, cache,
# taps checked). CHAOS_ARGS=--real-restart also restarts this machine's PostgreSQL/RabbitMQ.
chaos: venv
	$(PY) tools/chaos/run.py $(CHAOS_ARGS)

# Benchmarks against named peers (the real Keystone in .venv-keystone, devstack's figures).
bench: venv
	tools/keystone-peer/setup.sh
	$(PY) benchmarks/up.py --runs 3
	$(PY) benchmarks/identity.py

# Placement against the real openstack-placement (.venv-placement); 1,000 providers here,
# `benchmarks/placement.py --sizes 1000,10000` for the full figure (about an hour).
bench-placement: venv
	tools/placement-peer/setup.sh
	$(PY) benchmarks/placement.py --sizes 1000

# 1,000 servers on 100 fake hosts, 50 clients; image upload.
bench-compute: venv
	$(PY) benchmarks/boot_storm.py
	$(PY) benchmarks/image_upload.py

# Real guests from the user's side (openstacksdk against `kumo up` with the QEMU driver and
# the network agent; root): server create -> ACTIVE -> finished line -> SSH banner on the
# floating IP, 1 and 4 at once, against bare QEMU and devstack's figure; port creation, and
# floating IP / security group changes seen by a guest. 5-15 min under TCG.
bench-guests: venv clients debs
	$(PY) benchmarks/boot_real.py --runs 3
	$(PY) benchmarks/network.py

clean:
	rm -rf $(VENV) $(CLIENTS) .mypy_cache .ruff_cache
