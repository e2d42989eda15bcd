import torch
import torch.nn as nn


class MyModelNN(nn.Module):
    def __init__(self,layer_in,layer2,layer3,layer_out,):

        super(MyModelNN, self).__init__()

        self.fc1 = nn.Linear(layer_in, layer2)
        self.fc2 = nn.Linear(layer2, layer3)
        self.fc3 = nn.Linear(layer3, layer3)
        self.fc4 = nn.Linear(layer3, layer_out)

        self.sig_ = nn.Sigmoid()
        self.relu_ = nn.ReLU()

    def forward(self, x, y):
        x = self.relu_(self.fc1(x))
        x = self.relu_(self.fc2(x))
        x = self.relu_(self.fc3(x))
        x = self.relu_(x)
        return x

    def forward(self, x):
        x = self.sig_(self.fc1(x))
        x = self.sig_(self.fc2(x))
        x = self.sig_(self.fc3(x))
        x = self.fc4(x)
        return x
