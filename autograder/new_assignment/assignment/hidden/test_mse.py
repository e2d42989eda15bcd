"""Hidden checks: they run in the grader, never in the sandbox, and judge the data the probes
send back against the reference run on the same inputs."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.checks import CheckFailed, check


@check("mse", points=8, depends=["mse.loads"])
def test_random_arrays(submission: Any, reference: Any, rng: np.random.Generator) -> None:
    """mean_squared_error matches the reference on random arrays of several shapes."""
    for shape in [(5,), (3, 4), (2, 3, 2)]:
        pred, target = rng.normal(size=shape), rng.normal(size=shape)
        called = f"mean_squared_error(pred, target) on arrays of shape {shape}"
        got = submission.require("mse", "mse", what=called, pred=pred, target=target)
        want = reference.run("mse", "mse", pred=pred, target=target)
        if not isinstance(got, float) or not np.isclose(got, want, rtol=1e-9, atol=1e-12):
            summed = float(((pred - target) ** 2).sum())
            raise CheckFailed(
                f"wrong value on arrays of shape {shape}",
                called=called,
                expected=repr(want),
                actual=repr(got),
                mistakes=["no_mean"] if isinstance(got, float) and np.isclose(got, summed) else [],
            )
