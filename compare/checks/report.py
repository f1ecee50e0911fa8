"""REPORT.md's closing sections, as facts: their words are in report/templates/checks.md.j2.

Cross-checks: scratchnet against torchnet, step for step (results/compare/
lockstep.json) and gradient by gradient (results/compare/gradcheck.json).
The bench table of "About these numbers": `compare bench`'s results/bench.json.
"""
from __future__ import annotations

from ..report.render import Figures, Section, make_section
from ..report.sources import make_command


def lockstep(lock) -> dict:
    r = lock.result
    settings = [{"name": name, **s} for name, s in r.get("settings", {}).items()]
    return {"sizes": "-".join(map(str, r.get("sizes", []))), "steps": r["steps"],
            "batch_size": r.get("batch_size"), "device": r.get("device", "cpu"),
            "settings": settings, "worst": max([0.0] + [s["max"] for s in settings]),
            "bound": r.get("bound")}


def gradcheck(grad) -> dict:
    r = grad.result
    rows = r.get("rows", [])
    cases = {key: sorted({str(x[key]) for x in rows if key in x})
             for key in ("activation", "cost", "init")}
    return {"cases": len(rows), **cases,
            "depths": sorted({x["depth"] for x in rows if "depth" in x}),
            "batchnorm": any(x.get("batchnorm") for x in rows),
            "dropout": any(x.get("dropout") for x in rows),
            "autograd": max((x["autograd"] for x in rows), default=None),
            "finite_differences": max((x["finite_differences"] for x in rows), default=None),
            "autograd_rtol": r.get("autograd_rtol", 0), "fd_rtol": r.get("fd_rtol", 0),
            "fd_h": r.get("fd_h", 0), "failed": [x["case"] for x in rows if not x.get("ok")]}


def checks_section(src, fig: Figures) -> Section:
    lock, grad = src.lockstep, src.gradcheck
    return make_section("checks", "checks", [lock, grad], lambda: {
        "lockstep": lockstep(lock) if lock.ok else None,
        "gradcheck": gradcheck(grad) if grad.ok else None,
        "figure": fig("compare/lockstep.png", lock.command, lock.mtime) if lock.ok else None,
        "lockstep_command": lock.command, "gradcheck_command": grad.command})
