"""The course the kit's tests run over: this project's own ``assignments/`` and ``solutions/``.
Tests that hold for every assignment take ``ASSIGNMENTS``; a new assignment folder is tested
by them without any change here."""

from __future__ import annotations

from pathlib import Path

from autograder import assignment

COURSE = Path(__file__).resolve().parent.parent
ASSIGNMENTS = [assignment.load(name, COURSE) for name in assignment.available(COURSE)]
HW1 = assignment.load("hw1", COURSE)
HW1_SAMPLES = HW1.samples_dir
