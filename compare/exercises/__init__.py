"""Exercises: a student's copy of scratchnet with the derivatives and optimizers to write,
and a grader that names the mistake.

    table.py          the exercises in order: the functions, equations, what each teaches
    source.py         find functions by name in source text; empty their bodies (ast)
    generate.py       `compare exercises new`: write the student's copy
    readme.py         the copy's README.md
    training_loop.py  the reference training loop (exercise 10's source)
    mistakes.py       the catalogue of common mistakes, each a small variant of the reference
    context.py        the student's code and the reference, loaded side by side
    grading.py        answers against the truth, case by case, and the diagnosis
    derivatives.py    exercises 1–3 against torch autograd
    layers.py         exercises 4–5 (dropout, batch norm) against torch autograd
    optimizers.py     exercises 6–9 against torch.optim
    loop.py           exercise 10, watched while it runs
    lockstep.py       the last check: the whole network against torchnet
    child.py          the process the checks run in
    check.py          `compare exercises check`: that process, with time limits
    cli.py            the two commands

Nothing here is imported by `import compare`, and child.py imports nothing
that imports scratchnet before the student's folder is on sys.path.
"""
