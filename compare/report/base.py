"""The report's building blocks: the results it reads, its sections, figures and words.

Shared by compare.report, which finds the results and assembles REPORT.md, and
by the modules that write its sections (report_problem1, report_problem2,
report_problem3, report_checks). This module imports none of them, so the
imports run one way, without a cycle: report -> report_problem1/2/3 and
report_checks -> report_base (report_problem3 also takes the study table and
Problem 2's best run from report_problem2).
Nothing here reads a file but Figures, which checks that a figure exists.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

# ---------------------------------------------------------------- shared yardsticks and names
# At or below this a run "fails": chance is 10%, and a net that always answers the most
# common digit ("1": 1,135 of the 10,000 test images) scores 11.35%.
FAIL_ACCURACY = 0.50   # a run that ends at or below this has failed: 'performance is poor'
IMPL_NAMES = {"torch": "torchnet", "scratch": "scratchnet"}
INIT_NAMES = {"xavier_normal": "Xavier normal", "kaiming_uniform": "Kaiming uniform",
              "kaiming_normal": "Kaiming normal", "nielsen": "N(0, 1/n_in)", "large": "N(0, 1)"}
FIGURE_SLACK_S = 60   # a figure drawn just before its results were saved is not outdated


# ================================================================ the results the report reads
@dataclass
class Entry:
    """One result the report needs: its data, or why there is none.

    status: "ok", "missing" or "stale" (a file for the same name from another
    configuration; its numbers are not used). `shown` is the file the current
    code expects, as the report names it; `command` produces it.
    """
    name: str
    shown: str
    command: str
    status: str = "missing"
    result: dict | None = None
    run: object = None                     # the experiments.Run, for problems 2 and 3
    changed: list = field(default_factory=list)   # stale: "field: old → new"
    stale_file: str = ""
    mtime: float | None = None
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def why(self) -> str:
        """A short, reader-facing reason this result is not used."""
        if self.status == "stale":
            diff = f" (differs in {', '.join(self.changed)})" if self.changed else ""
            return (f"stale: `{self.stale_file}` was produced by an older configuration{diff}; "
                    f"run `{self.command}`")
        return f"not run yet: run `{self.command}`" + (f" ({self.note})" if self.note else "")


@dataclass
class Sources:
    """Every result the report reads, found under one results folder."""
    quick: bool
    impl: str
    problem1: Entry
    problem2: dict
    problem2_study: dict
    problem3: dict
    problem3_study: dict
    lockstep: Entry
    gradcheck: Entry
    bench: Entry

    def entries(self) -> list[Entry]:
        return [self.problem1, *self.problem2.values(), *self.problem2_study.values(),
                *self.problem3.values(), *self.problem3_study.values(),
                self.lockstep, self.gradcheck, self.bench]


def make_command(target: str, quick: bool) -> str:
    return f"make {target}" + (" QUICK=1" if quick else "")


def compare_command(sub: str, quick: bool, *options: str) -> str:
    return " ".join(["compare", sub, *options] + (["--quick"] if quick else []))


def config_changes(old: dict, new: dict) -> list[str]:
    """The fields of two run dicts ({"config", "impl", "augment"}) that differ."""
    changes = []
    old_config, new_config = old.get("config") or {}, new.get("config") or {}
    for key in sorted(set(old_config) | set(new_config)):
        if old_config.get(key) != new_config.get(key):
            changes.append(f"{key}: {old_config.get(key, '—')} → {new_config.get(key, '—')}")
    for key in ("impl", "augment"):
        if (old.get(key) or None) != (new.get(key) or None):
            changes.append(f"{key}: {old.get(key) or '—'} → {new.get(key) or '—'}")
    return changes


# ================================================================ formatting
def pct(x, digits: int = 2) -> str:
    return "—" if x is None else f"{100 * x:.{digits}f}%"


def pts(d: float) -> str:
    """A difference of two accuracies, in percentage points."""
    return f"{100 * abs(d):.2f} percentage points"


def sci(x) -> str:
    return "—" if x is None else f"{x:.1e}"


def num(n) -> str:
    return "—" if n is None else f"{n:,}"


def minutes(seconds) -> str:
    if seconds is None:
        return "—"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def cap(text: str) -> str:
    """Capitalize the first letter only (labels like 'momentum (γ = 0.9)' start sentences)."""
    return text[:1].upper() + text[1:]


def times(a: float, b: float) -> str:
    """How many times a is b, for prose: '3.2×'."""
    return f"{a / b:.1f}×" if b else "∞×"


def table(header, rows) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines + [""]


def config_of(result: dict) -> dict:
    return (result.get("run") or {}).get("config") or result.get("config") or {}


def augment_of(result: dict) -> dict:
    return (result.get("run") or {}).get("augment") or {}


_AUGMENT_WORDS = {"max_shift": lambda v: f"shifts up to ±{v:g} px",
                  "max_rotation": lambda v: f"rotations up to ±{v:g}°",
                  "max_scale": lambda v: f"scaling up to ±{100 * v:g}%"}


def describe(config: dict, augment: dict | None = None, lr: str | None = None) -> str:
    """A training config in one line of words, as a reader would write it.

    lr: words to put in place of the learning rate (a sweep's "lr as in the table").
    """
    c = config
    rate = lr or f"lr {c['lr']:g}"
    parts = ["-".join(str(s) for s in c["sizes"]) + " " + ("ReLU" if c["activation"] == "relu"
                                                           else c["activation"])]
    if c.get("batchnorm"):
        parts.append("batch norm after each hidden layer")
    if c.get("dropout"):
        parts.append(f"dropout {c['dropout']:g}")
    parts.append(f"{INIT_NAMES.get(c['init'], c['init'])} init")
    if c["optimizer"] == "sgd":
        opt = f"SGD {rate}"
        if c.get("momentum"):
            opt += f" with {'Nesterov ' if c.get('nesterov') else ''}momentum {c['momentum']:g}"
    else:
        opt = f"Adam {rate} (betas {c['beta1']:g}/{c['beta2']:g})"
    parts.append(opt)
    parts.append(f"weight decay {c['weight_decay']:g}" if c.get("weight_decay")
                 else "no weight decay")
    if c.get("step_size"):
        parts.append(f"learning rate ×{c['gamma']:g} every {c['step_size']} epochs")
    parts.append(f"batch size {c['batch_size']}")
    parts.append(plural(c["epochs"], "epoch"))
    if augment:
        words = [_AUGMENT_WORDS[k](v) if k in _AUGMENT_WORDS else f"{k} {v}"
                 for k, v in sorted(augment.items())]
        parts.append("on-the-fly augmentation (" + ", ".join(words) + ")")
    if c.get("train_subset"):
        parts.append(f"first {c['train_subset']:,} training images only")
    if c.get("validation"):
        parts.append("trained on 50,000 images, scored on the held-out 10,000")
    parts.append(c.get("dtype", "float64"))
    return ", ".join(parts)


def accuracies(result: dict) -> list[float]:
    return [a for a in result["history"]["test_accuracy"] if a is not None]


def best_epoch(result: dict) -> tuple:
    """(best accuracy, its epoch counted from 1), or (None, None)."""
    acc = accuracies(result)
    if not acc:
        return None, None
    best = max(acc)
    return best, acc.index(best) + 1


def ratios(result: dict) -> list[float]:
    """The homework's gradient ratio per epoch: mean ‖∇W_first‖ / mean ‖∇W_last‖."""
    return [n[0] / n[-1] if n[-1] else math.inf for n in result["history"]["grad_norms"]]


def outcome(result: dict) -> str:
    d = result.get("diverged_at")
    if d:
        return (f"diverged at epoch {d['epoch']} (step {d['step']:,})" if isinstance(d, dict)
                else f"diverged at {d}")
    final = result.get("final_accuracy")
    if final is None:
        return "no accuracy recorded"
    return f"failed (≤ {FAIL_ACCURACY:.0%})" if final <= FAIL_ACCURACY else ""


def failed(result: dict) -> bool:
    final = result.get("final_accuracy")
    return bool(result.get("diverged_at")) or final is None or final <= FAIL_ACCURACY


def n_updates(config: dict) -> int:
    """Optimizer steps a run takes: epochs × batches per epoch."""
    n = config.get("train_subset") or (50_000 if config.get("validation") else 60_000)
    return config["epochs"] * math.ceil(n / config["batch_size"])


def magnitude(x: float) -> str:
    """|log10| of a positive ratio in words: '4.5 orders of magnitude'."""
    return f"{abs(math.log10(x)):.1f} orders of magnitude"


def machine_words(m: dict) -> str:
    """A machine record in words, without host names or paths."""
    system = (m.get("platform") or "unknown").split("-")[0]
    parts = [f"{system} {m.get('processor', '')}".strip()]
    if m.get("cpus"):
        parts.append(f"{m['cpus']} CPUs")
    if m.get("cuda"):
        parts.append(f"GPU {m['cuda']}")
    parts += [f"{word} {m[key]}" for key, word in (("python", "Python"), ("numpy", "NumPy"),
                                                   ("torch", "torch")) if m.get(key)]
    if m.get("torch_threads"):
        parts.append(f"{m['torch_threads']} torch thread{'s' if m['torch_threads'] != 1 else ''}")
    return ", ".join(parts)


# ================================================================ figures
class Figures:
    """Markdown image links to figures/, checked to exist, relative to the report.

    The links always read figures/<problem>/<name>.png: either the figures
    folder sits beside the report (REPORT.md at the project root), or, with
    copy=True, the linked figures are to be copied into <report folder>/figures/
    so a report elsewhere (docs/REPORT.md) is self-contained. `copies` lists
    (source, destination) pairs for write() to copy.
    """

    def __init__(self, root: Path, quick: bool, report_dir: Path, copy: bool):
        self.root, self.report_dir = Path(root), Path(report_dir)
        self.quick, self.copy = quick, copy
        self.copies: list[tuple[Path, Path]] = []

    def image(self, rel: str, alt: str, command: str, newer_than: float | None = None) -> str:
        rel = ("quick/" if self.quick else "") + rel
        source = self.root / rel
        if not source.exists():
            return f"*(Figure `figures/{rel}` is not drawn yet: run `{command}`.)*"
        if self.copy:
            self.copies.append((source, self.report_dir / "figures" / rel))
        text = f"![{alt}](figures/{rel})"   # beside the report either way
        if newer_than is not None and source.stat().st_mtime < newer_than - FIGURE_SLACK_S:
            text += (f"\n\n*(This figure is older than the results above: run `{command}` "
                     "to redraw it.)*")
        return text


# ================================================================ sections
@dataclass
class Section:
    key: str
    title: str
    lines: list
    status: str = "complete"        # complete | partial | missing | stale | unreadable


def _status(entries) -> str:
    entries = list(entries)
    if all(e.ok for e in entries):
        return "complete"
    if any(e.ok for e in entries):
        return "partial"
    return "stale" if any(e.status == "stale" for e in entries) else "missing"


def newest_mtime(entries) -> float | None:
    times_ = [e.mtime for e in entries if e.ok and e.mtime is not None]
    return max(times_) if times_ else None


def _not_available(entries) -> list[str]:
    """Name every result the section lacks, and how to produce it."""
    bad = [e for e in entries if not e.ok]
    if not bad:
        return []
    if (all(e.status == "missing" and not e.note for e in bad)
            and len({e.command for e in bad}) == 1):
        folder = bad[0].shown.rsplit("/", 1)[0]
        names = ", ".join(f"`{e.name}`" for e in bad)
        lead = "Not run yet" if len(bad) == len(entries) else "Some results not run yet"
        return [f"**{lead}:** run `{bad[0].command}` (it writes {names} into {folder}/).", ""]
    lines = ["**Results this section lacks** (their numbers are not shown):", ""]
    lines += [f"- `{e.name}` ({e.shown}): {e.why()}" for e in bad]
    return lines + [""]


def make_section(key, title, entries, body) -> Section:
    """A section: its body (if any result it needs is there) and what is missing."""
    entries = list(entries)
    status = _status(entries)
    lines = _not_available(entries)
    if status in ("complete", "partial"):
        try:
            lines += body()
        except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError) as err:
            # A producer changed its format: say so here rather than fail the whole report.
            files = ", ".join(f"`{e.shown}`" for e in entries if e.ok)
            lines += [f"*This section could not be written from {files} "
                      f"({type(err).__name__}: {err}); the result format may have changed.*", ""]
            status = "unreadable"
    return Section(key, title, lines, status)
