"""A submission's conftest.py: if the grader's pytest imported it, every report would pass."""

from pathlib import Path

import pytest

MARKER = Path(__file__).with_name("CONFTEST_WAS_IMPORTED")
MARKER.write_text("the grader imported a submission's conftest.py\n")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Turn every report into a pass."""
    report = yield
    report.outcome = "passed"
    report.longrepr = None
    return report
