"""`compare gradcheck`: hand-written backprop against autograd and finite differences.

On small random float64 networks, scratchnet's backprop against torch autograd on a torchnet
copy (same weights, same batch, and with dropout scratchnet's masks: ReplayMasks) and against
central finite differences (scratchnet.gradcheck).
"""
from __future__ import annotations

import copy
import itertools
import sys
import time
from dataclasses import asdict, dataclass

import click
import numpy as np
import torch

import scratchnet
from scratchnet import gradcheck as fd, names

from .. import runs

EPS = np.finfo(np.float64).eps
# Backprop and autograd regroup the same float64 sums: they differ by round-off, about 1e-12
# at worst in these nets. 1e-10 leaves a hundredfold margin and is still 1e7 below a wrong
# derivative (1% off in σ' shows up as 1e-3; see test_a_wrong_derivative_is_caught).
AUTOGRAD_RTOL = 1e-10
FD_RTOL = 1e-7          # central differences, h = 1e-5: about 1e-10 truncation, 1e-11 round-off
FD_H = 1e-5
KINK_MARGIN = 1e-3      # ReLU pre-activations stay this far from 0, so ±h never crosses the kink


@dataclass(frozen=True)
class Case:
    activation: str
    cost: str
    init: str
    depth: int                  # weight layers
    batchnorm: bool = False
    dropout: float = 0.0
    eval_mode: bool = False     # batch norm with its running statistics
    seed: int = 0
    input_dropout: float = 0.0

    @property
    def name(self) -> str:
        extra = (["bn-eval" if self.eval_mode else "bn"] if self.batchnorm else [])
        extra += [f"dropout {self.dropout:g}"] if self.dropout else []
        extra += [f"input dropout {self.input_dropout:g}"] if self.input_dropout else []
        return "/".join([self.activation, self.cost, self.init, f"d{self.depth}", *extra])


def all_cases(quick: bool = False) -> list[Case]:
    """Every activation × cost × init × depth, then batch norm and dropout variants."""
    combos = itertools.product(names.ACTIVATIONS, names.COSTS, names.INITS,
                               (2, 4) if quick else (2, 3, 4, 5))
    cases = [Case(a, c, i, d, seed=k) for k, (a, c, i, d) in enumerate(combos)]
    extras = [dict(batchnorm=True), dict(batchnorm=True, eval_mode=True), dict(dropout=0.3),
              dict(batchnorm=True, dropout=0.3), dict(input_dropout=0.2, dropout=0.3)]
    for k, (a, c, extra) in enumerate(itertools.product(names.ACTIVATIONS, names.COSTS, extras)):
        cases.append(Case(a, c, "xavier_normal", 3, seed=1000 + k, **extra))
    return cases[::7] if quick else cases


def make_case(case: Case, batch: int = 8, attempts: int = 200):
    """(scratchnet net, X, y); for ReLU, a batch away from the kink. Batch norm's γ, β and
    running statistics are moved off 1, 0, 0 and 1, so that they all matter."""
    rng = np.random.default_rng([case.seed, 7])
    for _ in range(attempts):
        sizes = [int(s) for s in rng.integers(3, 8, case.depth)] + [int(rng.integers(3, 7))]
        net = scratchnet.Network(sizes, case.activation, case.cost, case.init,
                                 seed=int(rng.integers(2**31)), dropout=case.dropout,
                                 batchnorm=case.batchnorm, input_dropout=case.input_dropout)
        for bn in net.norms:
            bn.gamma[...] = rng.uniform(0.5, 1.5, bn.gamma.shape)
            bn.beta[...] = rng.normal(0.0, 0.5, bn.beta.shape)
            bn.running_mean[...] = rng.normal(0.0, 0.5, bn.running_mean.shape)
            bn.running_var[...] = rng.uniform(0.5, 2.0, bn.running_var.shape)
        net.train(not case.eval_mode)
        X = rng.normal(size=(batch, sizes[0]))                       # (N, n_in)
        y = rng.integers(0, sizes[-1], batch)                        # (N,)
        if case.activation != "relu" or _min_abs_z(net, X) > KINK_MARGIN:
            return net, X, y
    raise RuntimeError(f"{case.name}: no batch found with ReLU inputs away from the kink")


def forward(net, X):
    """net.forward(X), (z_L, ForwardCache), with the masks the next backprop will draw: the
    dropout generator and batch norm's running statistics are left as they were."""
    state = copy.deepcopy(net.dropout_rng.bit_generator.state)
    stats = [(bn.running_mean.copy(), bn.running_var.copy()) for bn in net.norms]
    try:
        return net.forward(X)
    finally:
        net.dropout_rng.bit_generator.state = state
        for bn, (mean, var) in zip(net.norms, stats):
            bn.running_mean[...], bn.running_var[...] = mean, var


def _min_abs_z(net, X) -> float:
    """Smallest |z| any hidden activation sees (after batch norm), with this batch's masks."""
    return min(float(np.abs(z).min()) for z in forward(net, X)[1].z)


class ReplayMasks(torch.nn.Module):
    """Stands in for nn.Dropout (whose masks come from torch's generator): multiplies by
    scratchnet's masks, one per call in turn."""

    def __init__(self, masks):
        super().__init__()
        self.masks, self.calls = masks, 0

    def forward(self, a):
        mask = self.masks[self.calls % len(self.masks)]
        self.calls += 1
        return a * mask                                              # (N, n_l) ⊙ (N, n_l)


def autograd_gradients(net, X, y, device="cpu") -> list[np.ndarray]:
    """∂C/∂p for every p in net.parameters(), by torch autograd on a torchnet copy."""
    from torchnet.convert import to_torch

    tnet = to_torch(net, device)
    _, cache = forward(net, X)                                       # the masks backprop will use
    if net.dropout and net.training:
        tnet.drop = ReplayMasks([torch.from_numpy(m).to(device) for m in cache.masks])
    if net.input_dropout and net.training:
        tnet.input_drop = ReplayMasks([torch.from_numpy(cache.input_mask).to(device)])
    tnet.loss(torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)).backward()
    return [p.grad.detach().cpu().numpy() for p in tnet.parameters()]


def worst_error(analytic, other, floor: float, against: str) -> float:
    """Largest |a − n| / (|a| + |n|) over the entries that can be resolved: against="difference"
    skips |a − n| ≤ floor (finite differences resolve only about ε·|C|/h); against="size" skips
    |a| + |n| ≤ floor (both zero to round-off, as a batch-normalized layer's bias gradient)."""
    worst = 0.0
    for a, n in zip(analytic, other):
        a, n = np.asarray(a, dtype=np.float64).ravel(), np.asarray(n, dtype=np.float64).ravel()
        size = np.abs(a - n) if against == "difference" else np.abs(a) + np.abs(n)
        worst = max(worst, float(fd.relative_error(a, n)[size > floor].max(initial=0.0)))
    return worst


def check_case(case: Case, device="cpu", fd_samples: int | None = None) -> dict:
    """One row of the table: the case and its worst autograd and finite-difference errors."""
    net, X, y = make_case(case)
    _, backprop = fd.frozen(net, X, y)
    loss, grads = backprop()
    scale = max(float(np.abs(g).max()) for g in grads)
    autograd = worst_error(grads, autograd_gradients(net, X, y, device), 64 * EPS * scale, "size")
    checked = fd.compare(net, X, y, FD_H, samples=fd_samples, seed=case.seed)
    numeric = worst_error([a for _, a, _ in checked], [n for _, _, n in checked],
                          4 * EPS * abs(loss) / FD_H, "difference")  # scratchnet's tests' bar
    return {"case": case.name, **asdict(case), "sizes": net.sizes, "loss": loss,
            "autograd": autograd, "finite_differences": numeric,
            "ok": autograd <= AUTOGRAD_RTOL and numeric <= FD_RTOL}


def format_table(rows) -> str:
    width = max(len(r["case"]) for r in rows)
    lines = [f"{'case':<{width}}  {'sizes':<18} {'autograd':>9} {'finite diff':>11}  ok",
             f"{'':<{width}}  {'':<18} {f'≤{AUTOGRAD_RTOL:.0e}':>9} {f'≤{FD_RTOL:.0e}':>11}"]
    for r in rows:
        sizes = "-".join(map(str, r["sizes"]))
        lines.append(f"{r['case']:<{width}}  {sizes:<18} {r['autograd']:>9.1e} "
                     f"{r['finite_differences']:>11.1e}  {'yes' if r['ok'] else 'NO'}")
    return "\n".join(lines)


def _device(ctx, param, value):
    """The torch.device for --device (the checks run in float64), or a usage error."""
    from torchnet.cli import resolve_device

    return resolve_device(value, "float64")


device_option = click.option("--device", default="cpu", show_default=True, callback=_device,
                             help="where torch runs: auto, cpu, cuda or mps (float64 needed)")


@click.command("gradcheck")
@click.option("--quick", is_flag=True, help="a smoke-sized subset (or QUICK=1)")
@click.option("--quiet", is_flag=True,
              help="no progress bar; print only failures and the summary")
@device_option
def command(quick, quiet, device):
    """Backprop vs torch autograd vs finite differences, in float64; exit 1 on any failure."""
    quick, start = runs.quick_mode(quick), time.perf_counter()
    cases = all_cases(quick)
    with click.progressbar(cases, label="gradcheck", file=sys.stderr, hidden=quiet) as bar:
        rows = [check_case(case, device, fd_samples=20 if quick else None) for case in bar]
    failed = [r for r in rows if not r["ok"]]
    if failed or not quiet:
        click.echo(format_table(failed if quiet else rows))
    path = runs.results_dir("compare", quick) / "gradcheck.json"
    runs.write_json_atomic(path, {"device": str(device), "autograd_rtol": AUTOGRAD_RTOL,
                                  "fd_rtol": FD_RTOL, "fd_h": FD_H, "rows": rows})
    worst_a = max(r["autograd"] for r in rows)
    worst_n = max(r["finite_differences"] for r in rows)
    click.echo(f"{len(rows)} cases in {time.perf_counter() - start:.1f}s on {device}: worst "
               f"autograd {worst_a:.1e} (≤ {AUTOGRAD_RTOL:g}), worst finite differences "
               f"{worst_n:.1e} (≤ {FD_RTOL:g}); {len(failed)} failed -> {path}")
    if failed:
        raise SystemExit(1)
