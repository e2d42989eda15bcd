"""A grading kit for programming homework: sandboxed probes produce data, pytest checks judge it.

The engine names no assignment; a course's assignments are folders of data it reads.
"""

import sys

__version__ = "0.1.0"

# jsonschema, under nbformat and nbgrader, imports rfc3987_syntax where it is installed, for
# its optional "iri" format check, and that builds 38 grammars as it is imported: over a second
# of every command that reads notebooks (release, the nbgrader commands), for a format neither
# nbformat's nor nbgrader's schemas use. Marked missing here, before any of the kit's imports
# of either, it is not imported, and jsonschema leaves that one format unchecked.
sys.modules.setdefault("rfc3987_syntax", None)
