# make run   - set up .venv (Python >= 3.12, ssbfem with DOLFINx) and run the default thin-film discharge
# make test  - set up the same way and run the test suite, serial and under mpiexec -n 2
# make bench - run the benchmarks in benchmarks/
# make docs  - build the documentation into site/ (warnings are errors)
# make notebooks - install the notebooks extra and write demos/notebooks/*.ipynb, executed
# make check-system - the system packages Gmsh's wheel and python -m venv need (make venv checks first)
# make docs-pages - write docs/materials.md and the results part of docs/performance.md

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# First interpreter >= 3.12: on PATH, else any pyenv version (its shims fail unless selected).
PYTHON ?= $(shell for p in python3.13 python3.12 python3 \
	$$(ls -d $$(pyenv root 2>/dev/null)/versions/3.1[2-9]*/bin/python3 2>/dev/null); do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)

.PHONY: venv run test lint test-serial test-mpi bench docs notebooks verification-report clean

venv: $(STAMP)

# Names what is missing and the apt-get/dnf line that installs it (ssbfem/system_check.py).
.PHONY: check-system docs-pages
check-system:
	@test -n "$(PYTHON)" || { echo "error: no Python >= 3.12 found (on PATH or via pyenv)"; exit 1; }
	@$(PYTHON) -I ssbfem/system_check.py

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: no Python >= 3.12 found (on PATH or via pyenv)"; exit 1; }
	@$(PYTHON) -I ssbfem/system_check.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dolfinx,test,notebooks]"
	touch $(STAMP)

run: venv
	$(BIN)/ssbfem run demos/configs/thin_film.toml --output results/thin_film --overwrite

test: lint test-serial test-mpi

lint: venv
	$(BIN)/ruff check ssbfem tests benchmarks demos docs
	$(BIN)/ruff format --check ssbfem tests benchmarks demos docs

test-serial: venv
	$(BIN)/python -m pytest -q tests

# Each rank gets its own pytest temporary folder (the hydra launcher sets PMI_RANK).
test-mpi: venv
	mkdir -p .pytest-mpi
	$(BIN)/mpiexec -n 2 bash -c '$(BIN)/python -m pytest -q -m mpi --basetemp=.pytest-mpi/rank$$PMI_RANK tests'
	rm -rf .pytest-mpi

bench: venv
	$(BIN)/pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/thin_film.py

docs: venv
	$(BIN)/mkdocs build --strict --site-dir site

# The notebooks as a user installs them (pip install "ssbfem[dolfinx,notebooks]"), executed with
# SSBFEM_QUICK=1 into demos/notebooks/*.ipynb (the site shows their outputs); commit the result.
notebooks: venv
	$(BIN)/pip install --quiet -e ".[dolfinx,notebooks]"
	$(BIN)/python docs/scripts/execute_notebooks.py

# docs/materials.md from the material library, benchmarks/RESULTS.md into docs/performance.md; commit the result.
docs-pages: venv
	$(BIN)/python docs/scripts/docs_pages.py

# Regenerate docs/verification.md from package runs (a few minutes); commit the result.
verification-report: venv
	$(BIN)/python docs/scripts/verification_report.py

clean:
	rm -rf $(VENV) results site
