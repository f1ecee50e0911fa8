"""Problem 2: shallow nets (784-h-10) on MNIST: the baseline, two learning-rate sweeps, the best recipe."""

PROBLEM = "problem2"   # results/problem2/, figures/problem2/
