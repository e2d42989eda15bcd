"""Code that runs inside the sandbox next to student code: the worker, the loader, the wire
format, and the helpers probes use (``probing``).

This package is bound read-only into the sandbox on its own, as ``autograder.runtime``, so it
must not import anything from the rest of ``autograder`` (which is not there).
"""
