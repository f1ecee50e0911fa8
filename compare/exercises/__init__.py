"""Exercises: a student's copy of scratchnet with the derivatives and optimizers to write
(table.py, generate.py), and a grader that names a mistake only when it is sure (check.py judges
what the student's code, run in child.py's process, sends back). `import compare` skips it.
"""
