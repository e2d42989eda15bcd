"""Public checks: students run them with ``autograder check``."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.checks import CheckFailed, check, loads_check

test_mse_loads = loads_check("mse", "mse.py")


@check("mse", points=2, depends=["mse.loads"])
def test_public_example(submission: Any) -> None:
    """The example from the statement: mean_squared_error([1, 2], [1, 4]) is 2.0."""
    called = "mean_squared_error([1, 2], [1, 4])"
    got = submission.require("mse", "mse", what=called, pred=np.array([1.0, 2.0]),
                             target=np.array([1.0, 4.0]))
    if not isinstance(got, float) or abs(got - 2.0) > 1e-9:
        raise CheckFailed(f"{called} is not 2.0", called=called, expected="2.0", actual=repr(got))
