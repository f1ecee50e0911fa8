"""`compare`: proof that scratchnet and torchnet agree, and Homework 7 reproduced.

The rooms, one per question a reader has:

    problem1/   Rosenbrock: the optimizers (rosenbrock.py), the study (experiment.py),
                its learning-rate sweeps (sweep.py), its figures (figures.py) and its
                report section (report.py)
    problem2/   shallow nets on MNIST: experiment.py, figures.py, report.py
    problem3/   deep nets and vanishing gradients: experiment.py, figures.py, report.py
    checks/     scratchnet against autograd and finite differences (gradcheck.py),
                and against torchnet step for step (lockstep.py)
    report/     REPORT.md: each section's facts come from problemN/report.py, its words
                from a template; stats.py (mean, sd, the tie rule, z over seeds) and
                anchors.py (the published results our recipes are set beside)
    exercises/  the student's copy of scratchnet and its grader

and, shared by the rooms: table.py (every run of Problems 2 and 3, declared once),
runs.py (a run, its stored result, one training), pool.py (many runs on Dask
workers), problem_cli.py (what `compare problem2/3` share, and `compare problems`:
both at once, and every input checked before work starts),
plots.py (the one plotting style), data.py (MNIST, verified), reference.py (the
homework's own code, transcribed, as an oracle), bench.py (side-by-side
timings) and cli.py (the `compare` command).
"""
