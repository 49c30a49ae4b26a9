# seqbench: `make bench` runs the benchmark, `make test` runs the tests. Both set up .venv first.
PYTHON ?= python3
# The torch build to install. The default is the CPU build; with a GPU, for example:
#   make bench TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128"
TORCH ?= torch==2.13.0
EXTRAS ?= data,report,ray,dev
VENV := .venv
BIN := $(VENV)/bin
SUITE ?= tasks/suites/quick.yaml
RESULTS ?= results
WORKERS ?=

.PHONY: bench standard standard-v1 grid-edges ablation positions generalisation test test-fast fuzz perf report clean-venv

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $@

test: $(BIN)/.installed
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

# The edit-run loop: everything but the tests marked slow (compile, Ray, plugin install, browser,
# LaTeX, end-to-end sweeps). `make test` still runs them all.
test-fast: $(BIN)/.installed
	$(BIN)/python -m pytest -q -m "not slow"

# Fuzz with fresh randomness and many more examples than the derandomised run in `make test`.
# Add whatever it finds to tests/test_fuzz.py as an @example.
fuzz: $(BIN)/.installed
	HYPOTHESIS_PROFILE=explore $(BIN)/python -m pytest -q tests/test_fuzz.py

bench: $(BIN)/.installed
	$(BIN)/seqbench sweep $(SUITE) --results $(RESULTS) $(if $(WORKERS),--workers $(WORKERS))
	$(BIN)/seqbench speed --max-length 1024 --results $(RESULTS)
	$(BIN)/seqbench report --results $(RESULTS) --out $(RESULTS)

# A citable leaderboard: sweep its suites, in order, into its results directory (resuming whatever is there,
# so on a complete checkout nothing runs and no data is read), keep its speed probe, render its report.
# $(call leaderboard,SUITE FILES,RESULTS DIR). The sweep writes DIR/VERSION when it runs something.
define leaderboard
	$(foreach suite,$(1),$(call sweep_into,$(suite),$(2)))
	$(BIN)/seqbench speed --max-length 1024 --results $(2) --keep-existing
	$(BIN)/seqbench report --results $(2) --out $(2)
endef
# One sweep as a recipe line of its own (the blank line ends it), so a failed sweep stops the ones after it.
define sweep_into
$(BIN)/seqbench sweep $(1) --results $(2) $(if $(WORKERS),--workers $(WORKERS))

endef

# results/standard is the standard leaderboard of the version its VERSION names (`standard: N`): v2 now
# (tasks/suites/standard-v2.yaml), in progress, so `make standard` resumes its sweep (hours, and the data);
# with `standard: 1` it would sweep tasks/suites/standard.yaml. A results/standard without VERSION is v2.
STANDARD_VERSION := $(shell sed -n 's/^  standard: *//p' results/standard/VERSION 2>/dev/null)
STANDARD_SUITE := tasks/suites/$(if $(filter 1,$(STANDARD_VERSION)),standard.yaml,standard-v2.yaml)
# v2's pairs axis for the hf recurrent models is a suite of its own (tasks/suites/standard-hf.yaml), swept
# into the same directory after v2's own, so its rows rank with the five's.
STANDARD_HF := $(if $(filter 1,$(STANDARD_VERSION)),,tasks/suites/standard-hf.yaml)
standard: $(BIN)/.installed
	$(call leaderboard,$(STANDARD_SUITE) $(STANDARD_HF),results/standard)

# Standard v1 as it was committed, citable on its own (seqbench cite --results results/standard-v1).
standard-v1: $(BIN)/.installed
	$(call leaderboard,tasks/suites/standard.yaml,results/standard-v1)

# One seed-0 run beyond each end of the standard grid that validation chose (the leaderboard's ‡), beside
# the rate chosen (tools/grid_edges.py). Resumes results/grid-edges: on a complete checkout, only the table.
# It extends v1's grid, so it reads v1 (results/standard-v1): v2's wider grids run some of the same configs.
GRID_EDGES = sst2 conll2003 imdb tinyshakespeare recall adding copy
grid-edges: $(BIN)/.installed
	for task in $(GRID_EDGES); do \
		$(BIN)/seqbench sweep tasks/suites/grid-edges/$$task.yaml --results results/grid-edges $(if $(WORKERS),--workers $(WORKERS)) || exit $$?; \
	done
	$(BIN)/python tools/grid_edges.py results/standard-v1 results/grid-edges

# The clipping / nonlinearity / initialisation ablation of the vanilla RNN, and cross-entropy vs MSE (13 minutes on 2 cores).
ablation: $(BIN)/.installed
	$(BIN)/seqbench sweep tasks/suites/ablation.yaml --results $(RESULTS) $(if $(WORKERS),--workers $(WORKERS))
	$(BIN)/seqbench sweep tasks/suites/loss.yaml --results $(RESULTS) $(if $(WORKERS),--workers $(WORKERS))
	$(BIN)/seqbench report --results $(RESULTS) --out $(RESULTS)

# The Transformer's position encodings on recall and copy: how its default was chosen.
positions: $(BIN)/.installed
	$(BIN)/seqbench sweep tasks/suites/positions.yaml --results $(RESULTS) $(if $(WORKERS),--workers $(WORKERS))
	$(BIN)/seqbench report --results $(RESULTS) --out $(RESULTS)

# Length generalisation (tasks/suites/generalisation.yaml): seven formal-language tasks, trained on
# lengths 1-40 and tested at 41-500. Resumes results/generalisation. Check its cost first:
#   seqbench sweep tasks/suites/generalisation.yaml --dry-run --results results/generalisation
generalisation: $(BIN)/.installed
	$(BIN)/seqbench sweep tasks/suites/generalisation.yaml --results results/generalisation $(if $(WORKERS),--workers $(WORKERS))
	$(BIN)/seqbench report --results results/generalisation --out results/generalisation

perf: $(BIN)/.installed
	$(BIN)/seqbench perf --results $(RESULTS)
	$(BIN)/seqbench report --results $(RESULTS) --out $(RESULTS)

report: $(BIN)/.installed
	$(BIN)/seqbench report --results $(RESULTS) --out $(RESULTS)

clean-venv:
	rm -rf $(VENV)
