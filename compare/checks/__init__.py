"""Cross-checks: scratchnet against torch autograd and finite differences, and against torchnet step for step."""
