"""The probes ``autograder doctor`` starts a worker with when no assignment is named: none.
Starting the worker in each layer is what it tests."""

PROBES: dict = {}
