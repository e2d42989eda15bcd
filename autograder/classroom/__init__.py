"""GitHub Classroom: the workflow a released bundle carries, and the step it runs.

``workflow`` writes ``.github/workflows/classroom.yml`` (install the engine, run the public
checks, hand the points to Classroom's reporter); ``points`` turns a result into the
reporter's JSON; ``report`` is the step itself (``python -m autograder.classroom.report``).
Hidden checks never travel with the workflow: the teacher's own batch run applies them.
"""

from .points import classroom_result, encode_result
from .workflow import add_classroom_workflow, classroom_workflow

__all__ = ["add_classroom_workflow", "classroom_result", "classroom_workflow", "encode_result"]
