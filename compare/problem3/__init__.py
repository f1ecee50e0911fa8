"""Problem 3: deep dense nets, vanishing gradients, and the best dense network."""

PROBLEM = "problem3"   # results/problem3/, figures/problem3/
