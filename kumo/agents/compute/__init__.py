"""The compute agent (nova-compute): builds and runs guests through a virt driver."""
