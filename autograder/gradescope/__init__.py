"""Gradescope: the autograder zip (``export``), the step Gradescope runs per submission
(``run``) and the ``results.json`` it reads (``results``)."""
