"""Submissions are found and read safely: no links followed, sizes capped, clear problems."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from course import COURSE

from autograder import assignment
from autograder.submission import discover, read_submission

HW1 = assignment.load("hw1", COURSE)


def write(folder: Path, **files: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name.replace("_py", ".py").replace("_md", ".md")).write_bytes(data)
    return folder


def test_a_folder_of_folders_is_a_batch_and_names_are_made_safe(tmp_path):
    write(tmp_path / "batch" / "Anna Ivanova_123_assignsubmission_file_", deep_net_py=b"x = 1\n")
    write(tmp_path / "batch" / "bob", roots_py=b"x = 2\n")
    (tmp_path / "batch" / "empty").mkdir()
    subs = discover([tmp_path / "batch"], HW1)
    assert [s.name for s in subs] == ["Anna_Ivanova_123_assignsubmission_file", "bob", "empty"]
    assert subs[0].files == {"deep_net.py": b"x = 1\n"}
    assert any("no homework files" in p for p in subs[2].problems)


def test_a_folder_with_homework_files_is_one_submission_even_with_subfolders(tmp_path):
    folder = write(tmp_path / "alice", deep_net_py=b"", optimizer_py=b"", roots_py=b"")
    (folder / "__pycache__").mkdir()
    (folder / "data").mkdir()
    subs = discover([folder], HW1)
    assert [s.name for s in subs] == ["alice"]
    assert subs[0].problems == ["missing: answers.md"]


def test_duplicate_names_get_suffixes(tmp_path):
    a = write(tmp_path / "one" / "same", roots_py=b"")
    b = write(tmp_path / "two" / "same", roots_py=b"")
    assert [s.name for s in discover([a, b], HW1)] == ["same", "same-2"]


def test_long_names_fit_the_file_system_with_their_suffix(tmp_path):
    """Names are capped in UTF-8 bytes, not only characters: two 255-byte names that differ in
    case both get an output folder, the second with its "-2"."""
    for tail in ("abc", "ABC"):
        write(tmp_path / "batch" / ("\U0001d51e" * 63 + tail), roots_py=b"")
    names = [s.name for s in discover([tmp_path / "batch"], HW1)]
    assert len(set(names)) == 2 and names[1].endswith("-2"), names
    assert all(len(n.encode()) <= 255 for n in names)
    assert all(n.startswith("\U0001d51e" * 49) for n in names)  # cut between characters
    for name in names:
        (tmp_path / "out" / name).mkdir(parents=True)


def test_symbolic_links_are_refused_not_followed(tmp_path):
    folder = write(tmp_path / "mallory", deep_net_py=b"x = 1\n")
    os.symlink("/etc/passwd", folder / "roots.py")
    os.symlink(str(HW1.solutions_dir / "optimizer.py"), folder / "optimizer.py")
    sub = read_submission(folder, HW1)
    assert set(sub.files) == {"deep_net.py"}
    assert sum("symbolic link" in p for p in sub.problems) == 2


def test_oversized_and_broken_notebooks_become_problems(tmp_path):
    folder = tmp_path / "nb"
    folder.mkdir()
    with open(folder / "hw1.ipynb", "wb") as handle:
        handle.truncate(200 << 20)
    sub = read_submission(folder, HW1)
    assert sub.files == {} and any("over the 20 MiB limit" in p for p in sub.problems)
    (folder / "hw1.ipynb").write_text('{"cells": [')
    sub = read_submission(folder, HW1)
    assert sub.files == {} and any("not a readable notebook" in p for p in sub.problems)


def test_a_notebook_path_is_one_submission(tmp_path):
    notebook = tmp_path / "carol.ipynb"
    notebook.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    (sub,) = discover([notebook], HW1)
    assert sub.name == "carol" and set(sub.files) == {"hw1.ipynb"}
    assert sub.entry_for(("roots.py",), "hw1.ipynb") == "hw1.ipynb"


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        discover([tmp_path / "nope"], HW1)


def test_a_notebook_beside_task_files_is_never_passed_over_in_silence(tmp_path):
    hw1 = assignment.load("hw1", COURSE)
    (tmp_path / "hw1.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    (tmp_path / "optimizer.py").write_text("x = 1\n")
    submission = read_submission(tmp_path, hw1)
    assert submission.graded_from(hw1) == {"deep_net": "hw1.ipynb", "optimizer": "optimizer.py",
                                           "roots": "hw1.ipynb", "answers": "hw1.ipynb"}
    said = [p for p in submission.problems if p.startswith("both hw1.ipynb and optimizer.py")]
    assert len(said) == 1, submission.problems
    assert "optimizer.py is graded" in said[0] and "(deep_net, roots, answers)" in said[0]
    for name in ("deep_net.py", "roots.py", "answers.md"):
        (tmp_path / name).write_text("x = 1\n")
    everything = read_submission(tmp_path, hw1)
    assert "hw1.ipynb is not graded at all" in " ".join(everything.problems)
    (tmp_path / "hw1.ipynb").unlink()
    assert not any("hw1.ipynb" in p for p in read_submission(tmp_path, hw1).problems)
