"""hw1 grading kit: sandboxed probes produce data, hidden pytest checks judge it."""

__version__ = "0.1.0"
