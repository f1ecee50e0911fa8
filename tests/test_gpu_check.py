"""scripts/gpu_check.py: without a CUDA device it says so plainly and exits 0."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "gpu_check.py"


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present: make gpu-check")
def test_without_cuda_it_says_so_and_exits_cleanly():
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "no CUDA device" in done.stdout
    assert "Traceback" not in done.stderr
