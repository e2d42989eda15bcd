"""Task 1: a small fully connected network written with PyTorch.

Write the forward pass yourself so that you see exactly which layer feeds which and where the
non-linearities sit: a network that is only a stack of linear layers is itself a single linear
map, so the activations between the layers are what make depth worth having.
"""

from __future__ import annotations

import torch
from torch import nn


class MyModelNN(nn.Module):
    """Four linear layers with a sigmoid after each of the first three.

    The layers must be attributes named ``fc1`` .. ``fc4`` (the checks look them up by name):

    - ``fc1 = nn.Linear(layer_in, layer2)``
    - ``fc2 = nn.Linear(layer2, layer3)``
    - ``fc3 = nn.Linear(layer3, layer3)``
    - ``fc4 = nn.Linear(layer3, layer_out)``

    ``forward`` applies fc1, sigmoid, fc2, sigmoid, fc3, sigmoid, fc4 and returns fc4's output
    unchanged (no activation on the output: a loss such as cross-entropy expects raw scores).
    An input of shape ``(N, layer_in)`` gives an output of shape ``(N, layer_out)``.
    """

    def __init__(self, layer_in: int, layer2: int, layer3: int, layer_out: int) -> None:
        """Create the four layers; call ``super().__init__()`` first so they get registered."""
        super().__init__()
        self.fc1 = nn.Linear(layer_in, layer2)
        self.fc2 = nn.Linear(layer2, layer3)
        self.fc3 = nn.Linear(layer3, layer3)
        self.fc4 = nn.Linear(layer3, layer_out)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map a batch ``(N, layer_in)`` to raw output scores ``(N, layer_out)``."""
        x = self.sigmoid(self.fc1(x))
        x = self.sigmoid(self.fc2(x))
        x = self.sigmoid(self.fc3(x))
        return self.fc4(x)
