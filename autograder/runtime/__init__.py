"""Code that runs inside the sandbox next to student code: the worker, the loader, the wire format.

This package is bound read-only into the sandbox on its own, so it must not import anything
from the rest of ``autograder`` (which holds the hidden suites) and must hold no secrets.
"""
