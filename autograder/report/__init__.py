"""Feedback for students and class overviews for the teacher, rendered from result dicts.

Everything a submission controls (its name, what its code printed, what it handed in for a
task graded by hand, values quoted in messages) is treated as hostile. It is only ever passed
to templates as data, never used as a template. HTML templates are autoescaped. Markdown
templates escape every expression by default (see ``rendering``), and untrusted multi-line text
only appears inside fenced blocks longer than any backtick run in it, with GitHub workflow
commands defused (see ``markdown``).
"""
