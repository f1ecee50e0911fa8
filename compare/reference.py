"""The reference code, as its authors wrote it: timed by `compare bench`, an oracle for tests.

NielsenNetwork is Nielsen's network.py (a per-sample loop over column vectors); homework_epoch
is Homework 7's own PyTorch loop (DataLoader, batch 10); homework_gd, homework_gd_with_mom and
homework_adams are Problem 1's algorithms, transcribed from the homework (bodies unchanged).
"""
from __future__ import annotations

import numpy as np


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class NielsenNetwork:
    """network.py's algorithm: backprop one sample (a (784, 1) column) at a time."""

    def __init__(self, weights, biases):
        self.weights = [np.array(W) for W in weights]          # (n_out, n_in)
        self.biases = [np.array(b).reshape(-1, 1) for b in biases]  # (n_out, 1)

    def update_mini_batch(self, mini_batch, eta):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        self.weights = [w - (eta / len(mini_batch)) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(self.biases, nabla_b)]

    def backprop(self, x, y):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation, activations, zs = x, [x], []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = _sigmoid(z)
            activations.append(activation)
        delta = (activations[-1] - y) * _sigmoid(zs[-1]) * (1 - _sigmoid(zs[-1]))
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for l in range(2, len(self.weights) + 1):
            z = zs[-l]
            sp = _sigmoid(z) * (1 - _sigmoid(z))
            delta = np.dot(self.weights[-l + 1].transpose(), delta) * sp
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
        return nabla_b, nabla_w

    def train_epoch(self, X, y, batch_size, eta, order):
        """One epoch over samples in `order`, as network.py's SGD loop does."""
        targets = np.eye(10)[y].reshape(-1, 10, 1)
        columns = X.reshape(-1, X.shape[1], 1)
        for k in range(0, len(order), batch_size):
            idx = order[k:k + batch_size]
            self.update_mini_batch(list(zip(columns[idx], targets[idx])), eta)


def homework_network(sizes):
    """The homework's Network class (sigmoid hidden layers, Xavier normal), one instance."""
    import torch.nn as nn
    import torch.nn.functional as F

    class Network(nn.Module):
        def __init__(self, sizes):
            super().__init__()
            self.layers = nn.ModuleList()
            for i in range(len(sizes) - 1):
                layer = nn.Linear(sizes[i], sizes[i + 1])
                nn.init.xavier_normal_(layer.weight)
                nn.init.zeros_(layer.bias)
                self.layers.append(layer)

        def forward(self, x):
            for layer in self.layers[:-1]:
                x = F.sigmoid(layer(x))
            return self.layers[-1](x)

    return Network(sizes)


def homework_epoch(root, sizes=(784, 30, 10), eta=0.001, seed=0):
    """One epoch of the homework's train() with its DataLoader; returns test accuracy."""
    import torch
    import torch.nn as nn
    import torch.optim as optim
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    torch.manual_seed(seed)
    transform = transforms.Compose([transforms.ToTensor(), transforms.Lambda(lambda x: x.view(-1))])
    train_dataset = datasets.MNIST(str(root), train=True, download=False, transform=transform)
    test_dataset = datasets.MNIST(str(root), train=False, transform=transform)
    train_loader = DataLoader(train_dataset, batch_size=10, shuffle=True)
    test_loader = DataLoader(test_dataset, batch_size=10, shuffle=False)
    network = homework_network(sizes)
    optimizer = optim.SGD(network.parameters(), momentum=0.8, nesterov=True, lr=eta,
                          weight_decay=0.0001)
    criterion = nn.CrossEntropyLoss()
    network.train()
    for images, labels in train_loader:
        outputs = network(images)
        loss = criterion(outputs, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    network.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in test_loader:
            predicted = torch.argmax(network(images), dim=1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    return correct / total


def homework_gd(grad, init, n_epochs=1000, eta=10**-4):
    params = np.array(init)
    param_traj = np.zeros([n_epochs + 1, 2])
    param_traj[0, ] = init
    v = 0
    for j in range(n_epochs):
        v = eta * (np.array(grad(params)))
        params = params - v
        param_traj[j + 1, ] = params
    return param_traj


def homework_gd_with_mom(grad, init, n_epochs=5000, eta=10**-4, beta=0.9, gamma=0.9):
    params = np.array(init)
    param_traj = np.zeros([n_epochs + 1, 2])
    param_traj[0, ] = init
    v = 0
    for j in range(n_epochs):
        v = gamma * v + (np.array(grad(params)))
        params = params - eta * v
        param_traj[j + 1, ] = params
    return param_traj


def homework_adams(grad, init, n_epochs=5000, eta=10**-4, gamma=0.9, beta=0.99, epsilon=10**-8):
    params = np.array(init)
    param_traj = np.zeros([n_epochs + 1, 2])
    param_traj[0, ] = init
    v = 0
    grad_sq = 0
    for j in range(n_epochs):
        g = np.array(grad(params))
        v = gamma * v + (1 - gamma) * g
        grad_sq = beta * grad_sq + (1 - beta) * g * g
        v_hat = v / (1 - gamma**(j + 1))
        grad_sq_hat = grad_sq / (1 - beta**(j + 1))
        params = params - eta * np.divide(v_hat, np.sqrt(grad_sq_hat + epsilon))
        param_traj[j + 1, ] = params
    return param_traj


def homework_grad(xy):
    """The homework's prob_func_grad."""
    x, y = xy
    dfdx = -2 * (1 - x) - 400 * x * (y - x**2)
    dfdy = 200 * (y - x**2)
    return np.array([dfdx, dfdy])
