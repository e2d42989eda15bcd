"""The kit inside an nbgrader course: a source notebook nbgrader releases, sandboxed grading whose
scores go into nbgrader's gradebook through nbgrader's own API, and the kit's feedback where
nbgrader's goes. Student code never runs in nbgrader's kernel or in a trusted process.

Needs the ``nbgrader`` extra (``pip install 'autograder[nbgrader]'``).
"""

import sys

# jsonschema, under nbformat and nbgrader, imports rfc3987_syntax where it is installed, for
# its optional "iri" format check, and that builds 38 grammars as it is imported: over a second
# of every command here, for a format that neither nbformat's nor nbgrader's schemas use.
# Marked missing, it is not imported, and jsonschema leaves that one format unchecked.
sys.modules.setdefault("rfc3987_syntax", None)
