"""Exercise 10: the homework's training loop, in plain PyTorch.

`train` has the signature of Homework 7's Problem 2 solution; the checker runs it on a few
hundred MNIST images and counts its calls. `Network` is the homework's network class, here so
the loop can be tried by hand:

    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms
    to_vector = transforms.Compose([transforms.ToTensor(), transforms.Lambda(lambda x: x.view(-1))])
    train_set = datasets.MNIST("data", train=True, transform=to_vector)
    test_set = datasets.MNIST("data", train=False, transform=to_vector)
    train_loader = DataLoader(train_set, batch_size=10, shuffle=True)
    accuracies = train(Network([784, 30, 10]), train_loader, DataLoader(test_set, batch_size=1000),
                       epochs=1, eta=0.01, optimizer_type="SGD")
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class Network(nn.Module):
    """The homework's network: sigmoid hidden layers, Xavier-normal weights, zero biases."""

    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.ModuleList()
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layer = nn.Linear(n_in, n_out)
            nn.init.xavier_normal_(layer.weight)
            nn.init.zeros_(layer.bias)
            self.layers.append(layer)

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = F.sigmoid(layer(x))
        return self.layers[-1](x)                      # logits, for nn.CrossEntropyLoss


def train(network, train_loader, test_loader, epochs, eta, optimizer_type):
    """Train `network` for `epochs` epochs; return the test accuracy after each epoch.

    The optimizer is the homework's, built over network.parameters():
      optimizer_type "SGD":  optim.SGD(lr=eta, momentum=0.8, nesterov=True, weight_decay=1e-4)
      optimizer_type "Adam": optim.Adam(lr=eta, betas=(0.9, 0.999), weight_decay=1e-4)
      anything else: raise ValueError.
    The loss is nn.CrossEntropyLoss() of the network's output and the labels.
    Each epoch: put the network in training mode, and for every (images, labels)
    batch of train_loader take exactly one optimizer step on that batch's loss,
    with the gradients zeroed before its backward pass. Then put the network in
    evaluation mode and, without tracking gradients, count the test images whose
    largest output is at their label. Append correct / total (a float in [0, 1]),
    and return the list of `epochs` accuracies.
    """
    criterion = nn.CrossEntropyLoss()
    if optimizer_type == "SGD":
        optimizer = optim.SGD(network.parameters(), lr=eta, momentum=0.8, nesterov=True,
                              weight_decay=1e-4)
    elif optimizer_type == "Adam":
        optimizer = optim.Adam(network.parameters(), lr=eta, betas=(0.9, 0.999),
                               weight_decay=1e-4)
    else:
        raise ValueError(f"optimizer_type must be 'SGD' or 'Adam', got {optimizer_type!r}")
    accuracies = []
    for _ in range(epochs):
        network.train()
        for images, labels in train_loader:
            optimizer.zero_grad()
            loss = criterion(network(images), labels)
            loss.backward()
            optimizer.step()
        network.eval()
        correct = total = 0
        with torch.no_grad():
            for images, labels in test_loader:
                correct += int((network(images).argmax(dim=1) == labels).sum())
                total += len(labels)
        accuracies.append(correct / total)
    return accuracies
