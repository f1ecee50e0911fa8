# scratchnet / torchnet / compare — every target installs what it needs first.
# `make all` reproduces the homework (one seed); `make study` adds the studies and
# the seeds behind the report's error bars; `make homework` only what the homework
# specifies; `make test` runs the tests. QUICK=1 turns every problem into a smoke
# run (tiny subset, one epoch; results kept apart).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
QUICK  ?=
export QUICK

.DEFAULT_GOAL := help
.PHONY: help install data test test-slow test-gpu gpu-check problem1 problem2 problem3 problems homework-runs homework study checks exercises check-exercises grade-exercises all bench report clean

help:  ## list the targets
	@echo "make targets (QUICK=1 for smoke runs):"
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  %-16s %s\n", $$1, $$2}'

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the three packages (editable) with pytest

data: $(STAMP)  ## fetch and verify MNIST into data/MNIST/raw (no work if already there)
	$(BIN)/compare data

test: data  ## run the test suite (fast tests; slow and gpu are deselected)
	$(BIN)/python -m pytest

test-slow: data  ## run the slow tests too (full MNIST training)
	$(BIN)/python -m pytest -m "not gpu"

test-gpu: data  ## run the CUDA tests (they skip without a GPU)
	$(BIN)/python -m pytest -m gpu

gpu-check: data  ## the CUDA path: gpu tests, epoch bench, the three recipes on the card (says so and exits 0 without one)
	$(BIN)/python scripts/gpu_check.py

problem1: $(STAMP)  ## Problem 1: Rosenbrock optimizer study -> figures/problem1, results/problem1.json
	$(BIN)/compare problem1

problem2: data  ## Problem 2 alone: shallow nets on MNIST -> figures/problem2, results/problem2
	$(BIN)/compare problem2

problem3: data  ## Problem 3 alone: deep nets, vanishing gradients -> figures/problem3, results/problem3
	$(BIN)/compare problem3

problems: data  ## Problems 2 and 3 in one pool of workers, longest runs first (seed 0), then their figures
	$(BIN)/compare problems

homework-runs: data
	$(BIN)/compare problems --part homework

homework: problem1 homework-runs checks report  ## only what the homework specifies: Problem 1, both baselines, both sweeps, the deep variants, the checks, REPORT.md

study: data  ## the studies (validation split) and seeds 1-4 / 1-2 for the report's error bars (slow)
	$(BIN)/compare problems --study

checks: data  ## scratchnet vs torchnet: compare gradcheck and compare lockstep
	$(BIN)/compare gradcheck --quiet
	$(BIN)/compare lockstep --quiet

exercises: $(STAMP)  ## a student's copy of scratchnet in exercises/, the exercises emptied
	$(BIN)/compare exercises new exercises

check-exercises: data  ## grade the copy in exercises/: one row per exercise, with a diagnosis
	$(BIN)/compare exercises check exercises

grade-exercises: data  ## grade a class: SUBMISSIONS="alice/ bob/ ..." -> grades/grades.csv, grades/feedback/
	$(if $(SUBMISSIONS),,$(error give the students' folders: make grade-exercises SUBMISSIONS="alice/ bob/"))
	$(BIN)/compare exercises grade $(SUBMISSIONS) --out grades

all: problem1 problems checks report  ## the three problems (one seed), the cross-checks and REPORT.md

bench: data  ## side-by-side timings -> results/bench.json
	$(BIN)/compare bench

report: $(STAMP)  ## REPORT.md from results/ and figures/
	$(BIN)/compare report

clean:  ## remove results and figures (keeps .venv and data)
	rm -rf results figures
