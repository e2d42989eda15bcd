"""The kit inside an nbgrader course: a source notebook nbgrader releases, sandboxed grading whose
scores go into nbgrader's gradebook through nbgrader's own API, and the kit's feedback where
nbgrader's goes. Student code never runs in nbgrader's kernel or in a trusted process.

Needs the ``nbgrader`` extra (``pip install 'autograder[nbgrader]'``).
"""
