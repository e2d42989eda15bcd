"""The mean squared error."""

import numpy as np


def mean_squared_error(pred: np.ndarray, target: np.ndarray) -> float:
    """The mean over all elements of (pred - target) ** 2."""
    return float(np.mean((pred - target) ** 2))
