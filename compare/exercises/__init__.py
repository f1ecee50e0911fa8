"""Exercises: a student's copy of scratchnet with the derivatives and optimizers to write
(table.py, generate.py), and a grader that names a mistake only when it is sure (check.py runs
the student's code in child.py's process; checks.py says what is checked and how it is judged).
Nothing here is imported by `import compare`.
"""
