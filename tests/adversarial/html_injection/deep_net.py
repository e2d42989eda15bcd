"""A network (wrong) whose output and errors carry HTML and Markdown."""

from __future__ import annotations

import sys  # attack

import torch
from torch import nn

# attack: begin
_PAYLOAD = ('<script>alert("grader")</script><img src=x onerror=alert(1)> ``` | a | b | '
            '[link](javascript:alert(1)) </details></pre>')
print(_PAYLOAD)
print(_PAYLOAD, file=sys.stderr)
# attack: end



class MyModelNN(nn.Module):
    """The four layers wired without the sigmoids: a wrong answer, so any point this file
    earns beyond its honest version's would come from the attack."""

    def __init__(self, layer_in: int, layer2: int, layer3: int, layer_out: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(layer_in, layer2)
        self.fc2 = nn.Linear(layer2, layer3)
        self.fc3 = nn.Linear(layer3, layer3)
        self.fc4 = nn.Linear(layer3, layer_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # attack: begin
        raise ValueError(_PAYLOAD)
        # attack: end
        out = self.fc4(self.fc3(self.fc2(self.fc1(x))))
        return out
