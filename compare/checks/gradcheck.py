"""`compare gradcheck`: hand-written backprop against autograd and finite differences.

gradcheck: on small random networks (every activation × cost × init, 2 to 5
weight layers, plus batch norm, dropout and input dropout), in float64, on the
same weights (copied by torchnet.convert) and the same batch, scratchnet's
hand-written backprop is compared with torch autograd (to 1e-10 relative) and
with central finite differences (scratchnet.gradcheck, to 1e-7 relative). With
dropout, torch would draw its masks from its own generator, so the torchnet
copy is given scratchnet's masks instead (ReplayMasks, for the hidden layers'
and for the input's; nn.Dropout is exactly such a mask product, as a test
shows) and both differentiate the same function.
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
# Backprop and autograd do the same float64 arithmetic in another order (sums of
# products regrouped), so they differ by round-off: a few ε ≈ 2.2e-16 per operation,
# growing with depth to about 1e-12 at worst in these small nets. 1e-10 leaves a
# hundredfold margin above that, and is still 1e7 times below the error of a wrong
# derivative (a 1% mistake in σ' shows up as 1e-3; see test_a_wrong_derivative_is_caught).
AUTOGRAD_RTOL = 1e-10
FD_RTOL = 1e-7          # central differences, h = 1e-5: about 1e-10 truncation, 1e-11 round-off
FD_H = 1e-5
KINK_MARGIN = 1e-3      # ReLU pre-activations stay this far from 0, so ±h never crosses the kink
DEPTHS = (2, 3, 4, 5)   # weight layers


# ================================================================ gradcheck
@dataclass(frozen=True)
class Case:
    activation: str
    cost: str
    init: str
    depth: int
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
    depths = (2, 4) if quick else DEPTHS
    combos = itertools.product(names.ACTIVATIONS, names.COSTS, names.INITS, depths)
    cases = [Case(a, c, i, d, seed=k) for k, (a, c, i, d) in enumerate(combos)]
    extras = [dict(batchnorm=True), dict(batchnorm=True, eval_mode=True), dict(dropout=0.3),
              dict(batchnorm=True, dropout=0.3), dict(input_dropout=0.2, dropout=0.3)]
    for k, (a, c, extra) in enumerate(itertools.product(names.ACTIVATIONS, names.COSTS, extras)):
        cases.append(Case(a, c, "xavier_normal", 3, seed=1000 + k, **extra))
    return cases[::7] if quick else cases


def make_case(case: Case, batch: int = 8, attempts: int = 200):
    """(scratchnet net, X, y) for a case; for ReLU, a batch away from the kink.

    Batch norm's γ and β are moved away from 1 and 0 and, for the eval-mode
    case, the running statistics away from 0 and 1, so they all matter.
    """
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


def _replaying(net):
    """net.forward, without moving its dropout generator or running statistics: each call
    returns (z_L, ForwardCache) with the masks the network's next backprop will draw."""
    state = copy.deepcopy(net.dropout_rng.bit_generator.state)
    stats = [(bn.running_mean.copy(), bn.running_var.copy()) for bn in net.norms]

    def forward(X):
        try:
            return net.forward(X)
        finally:
            net.dropout_rng.bit_generator.state = copy.deepcopy(state)
            for bn, (mean, var) in zip(net.norms, stats):
                bn.running_mean[...], bn.running_var[...] = mean, var
    return forward


def _min_abs_z(net, X) -> float:
    """Smallest |z| any hidden activation sees (after batch norm), with this batch's masks."""
    _, cache = _replaying(net)(X)
    return min(float(np.abs(z).min()) for z in cache.z)


class ReplayMasks(torch.nn.Module):
    """Stands in for nn.Dropout: multiplies by given masks, one per call in turn.

    torch's dropout draws from torch's generator and scratchnet's from NumPy's,
    so to compare gradients with dropout on, scratchnet's masks are injected.
    """

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
    _, cache = _replaying(net)(X)                                    # the masks backprop will use
    if net.dropout and net.training:
        tnet.drop = ReplayMasks([torch.from_numpy(m).to(device) for m in cache.masks])
    if net.input_dropout and net.training:
        tnet.input_drop = ReplayMasks([torch.from_numpy(cache.input_mask).to(device)])
    loss = tnet.loss(torch.from_numpy(X).to(device), torch.from_numpy(y).to(device))
    loss.backward()
    return [p.grad.detach().cpu().numpy() for p in tnet.parameters()]


def worst_error(analytic, other, floor: float, against: str) -> float:
    """Largest relative error |a − n| / (|a| + |n|) over the entries that can be resolved.

    against="difference": skip entries with |a − n| ≤ floor (finite differences
    resolve a gradient only to about ε·|C|/h). against="size": skip entries with
    |a| + |n| ≤ floor (both zero to round-off, as a batch-normalized layer's
    bias gradient is mathematically).
    """
    worst = 0.0
    for a, n in zip(analytic, other):
        a, n = np.asarray(a, dtype=np.float64).ravel(), np.asarray(n, dtype=np.float64).ravel()
        size = np.abs(a - n) if against == "difference" else np.abs(a) + np.abs(n)
        errors = fd.relative_error(a, n)[size > floor]
        worst = max(worst, float(errors.max(initial=0.0)))
    return worst


def check_case(case: Case, device="cpu", fd_samples: int | None = None) -> dict:
    """One row of the table: the case and its worst autograd and finite-difference errors."""
    net, X, y = make_case(case)
    cost, backprop = fd.frozen(net, X, y)
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


# ================================================================ commands
def device_option(f):
    return click.option("--device", default="cpu", show_default=True,
                        help="where torch runs: auto, cpu, cuda or mps (float64 needed)")(f)


def resolve_device(device):
    """The torch.device for --device (the checks run in float64), or a usage error."""
    from torchnet.device import DeviceError, check_dtype, resolve

    try:
        device = resolve(device)
        check_dtype(device, "float64")
        return device
    except DeviceError as err:
        raise click.BadParameter(str(err), param_hint="--device") from None


@click.command("gradcheck")
@click.option("--quick", is_flag=True, help="a smoke-sized subset (or QUICK=1)")
@click.option("--quiet", is_flag=True, help="no progress bar; print only failures and the summary")
@device_option
def command(quick, quiet, device):
    """Backprop vs torch autograd vs finite differences, in float64; exit 1 on any failure."""
    quick, device = runs.quick_mode(quick), resolve_device(device)
    cases = all_cases(quick)
    start = time.perf_counter()
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
