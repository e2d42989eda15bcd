"""A grading kit for programming homework: sandboxed probes produce data, pytest checks judge it.

The engine names no assignment; a course's assignments are folders of data it reads.
"""

__version__ = "0.1.0"
