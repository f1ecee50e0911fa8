"""Problem 1: gradient descent, momentum and Adam on the Rosenbrock function."""
