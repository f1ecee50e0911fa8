"""Cross-checks: scratchnet against autograd and finite differences, and against torchnet."""
