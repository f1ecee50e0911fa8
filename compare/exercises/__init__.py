"""Exercises: a student's copy of scratchnet with the derivatives and optimizers to write,
and a grader that names the mistake only when it is sure.

    table.py          the exercises in order: the functions, equations, what each teaches
    source.py         find functions by name in source text; empty their bodies (ast)
    generate.py       `compare exercises new`: write the student's copy
    readme.py         the copy's README.md
    training_loop.py  the reference training loop (exercise 10's source)
    code.py           functions by qualified name: the student's copy, the reference, overrides
    grading.py        a Case (run in the child, truth in the grader) and how outputs compare
    mistakes.py       the catalogue of common mistakes, each with the function that makes it
    verdict.py        an exercise's row from its cases' outputs, and the diagnosis
    derivatives.py    exercises 1–3 against torch autograd
    layers.py         exercises 4–5 (dropout, batch norm) against torch autograd
    optimizers.py     exercises 6–9 against torch.optim and the homework's code
    loop.py           exercise 10, watched while it runs (in the child)
    loop_verdict.py   exercise 10's row, from the counted calls (in the grader)
    lockstep.py       the last check: the whole network against torchnet, and its culprit
    checks.py         every check by key: its cases and its judge
    values.py         the outputs the child sends back, as JSON
    child.py          the process the student's code runs in, and the grader's handle on it
    check.py          `compare exercises check`: one copy, with time limits
    grade.py          `compare exercises grade`: a class; CSV, feedback, Gradescope
    cli.py            the three commands

Nothing here is imported by `import compare`, and child.py imports nothing
that imports scratchnet before the student's folder is on sys.path.
"""
