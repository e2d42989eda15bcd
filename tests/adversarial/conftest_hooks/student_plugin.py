"""A pytest plugin shipped in a submission and named in its pytest.ini."""

from pathlib import Path

Path(__file__).with_name("PLUGIN_WAS_IMPORTED").write_text("the grader loaded a submission's plugin\n")
