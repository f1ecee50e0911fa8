"""The README.md of a student's exercise folder, rendered from the exercise table.

A string.Template (no dependency beyond the standard library), filled with
one section per exercise in order: what to write and where, the equation,
what it teaches, and the command that checks it.
"""
from __future__ import annotations

from string import Template

from .table import EXERCISES, PROBLEM1_FILE, LOOP_FILE

TEMPLATE = Template("""\
# Exercises: scratchnet's derivatives and optimizers, by your hand

This folder is a complete copy of `scratchnet` (a fully-connected MNIST network
with every derivative written by hand in NumPy) in which $count functions have
been emptied: each now raises `NotImplementedError("Exercise k: ...")`. Their
signatures and docstrings are unchanged, and a comment or docstring in each
states the equation to implement, with the shapes. Two more files hold the
homework's own code to complete: `$problem1` (Problem 1's optimizers) and
`$loop` (a PyTorch training loop).

Write the exercises in the order below: later ones use earlier ones (backprop
calls f′ and the costs' δ_L), but each is checked on its own, against the
reference pieces, so a mistake shows up in the exercise that made it. You may
read anything else in this folder; nothing in it holds an answer. The guide,
with how to read a diagnosis and the catalogue of mistakes, is
docs/exercises.md in the project.

## Checking your work

From the project's root folder (where the `compare` command works):

    compare exercises check $folder             # every exercise
    compare exercises check $folder --only 3    # just exercise 3

Every exercise is graded against exact answers, not finite differences:
derivatives against torch autograd in float64, to a relative error of $rtol;
optimizers step for step against `torch.optim` over 100 steps and more, to
$bound. Each row says `passed`, `wrong` or `not written yet`, the worst relative
error, the first case that fails (activation, cost, depth, layer, parameter)
and a diagnosis: when your answer equals a known mistake to round-off, the
mistake is named; otherwise the row says where the first wrong number is and its
ratio to the true one. Your code runs in its own process with a time limit, so
an exception or an endless loop only marks that exercise `wrong`. When
exercises 1–8 all pass, a last check trains your whole network in lock-step with
PyTorch and reports how far apart the weights end up.

## The exercises
$sections
""")

SECTION = Template("""
### $number. $title

Write $what.

$equation

*What it teaches:* $teaches

$tasks
Check it: `compare exercises check $folder --only $number`
""")


def _code(name: str) -> str:
    return f"`{name}`"


def _section(exercise, folder: str, where: dict[str, str]) -> str:
    files: dict[str, list[str]] = {}
    for target in exercise.targets:
        files.setdefault(where[target.qualname], []).append(_code(target.qualname))
    what = "; ".join(f"{', '.join(names)} in `{path}`" for path, names in files.items())
    tasks = "".join(f"`{t.qualname}`:\n\n" + "".join(f"    {line}\n" for line in t.task.splitlines())
                    + "\n" for t in exercise.targets)
    title = exercise.title[:1].upper() + exercise.title[1:]
    return SECTION.substitute(number=exercise.number, title=title, what=what,
                              equation=exercise.equation, teaches=exercise.teaches,
                              tasks=tasks, folder=folder)


def _exp(x: float) -> str:
    return f"{x:.0e}".replace("e-0", "e-")          # 1e-9, not 1e-09


def render(folder: str, where: dict[str, str], rtol: float, bound: float) -> str:
    """The README for an exercise folder; where[qualname] is the file the student edits."""
    sections = "".join(_section(e, folder, where) for e in EXERCISES)
    count = sum(len(e.targets) for e in EXERCISES if e.in_scratchnet)
    return TEMPLATE.substitute(count=count, problem1=PROBLEM1_FILE, loop=LOOP_FILE,
                               folder=folder, rtol=_exp(rtol), bound=_exp(bound),
                               sections=sections)
