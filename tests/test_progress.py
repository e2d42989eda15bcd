"""Progress lines for logs: how often, and what they say."""

from __future__ import annotations

from autograder.progress import ProgressLog


def test_a_line_every_few_submissions_and_at_the_end() -> None:
    now = [0.0]
    lines: list[str] = []
    log = ProgressLog(1000, lines.append, every_count=25, every_seconds=1e9, clock=lambda: now[0])
    for _ in range(1000):
        now[0] += 0.5
        log.advance()
    assert len(lines) == 40
    assert lines[0] == "graded 25/1000 (2%) in 12s, 2.00 per second, about 8m08s left"
    assert lines[-1] == "graded 1000/1000 (100%) in 8m20s, 2.00 per second, done"


def test_a_slow_batch_still_says_something_every_interval() -> None:
    now = [0.0]
    lines: list[str] = []
    log = ProgressLog(10, lines.append, every_count=25, every_seconds=30, clock=lambda: now[0])
    for _ in range(3):
        now[0] += 40
        log.advance()
    assert [line.split(" in ")[0] for line in lines] == ["graded 1/10 (10%)", "graded 2/10 (20%)",
                                                         "graded 3/10 (30%)"]
