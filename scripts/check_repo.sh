#!/usr/bin/env bash
# Repo guards for `make test`: the package matches the notebooks, notebooks are clean,
# README matches nbs/index.ipynb, code is in shape (scripts/check_shape.py), and every module imports alone.
set -euo pipefail
BIN=.venv/bin
snapshot() { find sparse_nb nbs -type f \( -name '*.py' -o -name '*.ipynb' \) -not -path '*/.ipynb_checkpoints/*' | sort | xargs sha1sum; }
changed() { diff <(echo "$1") <(echo "$2") | sed -n 's/^> [0-9a-f]*  /  /p'; }

before=$(snapshot); $BIN/nbdev_export; after=$(snapshot)
if [ "$before" != "$after" ]; then
  echo "FAIL: nbdev_export changed the package; export and commit:"; changed "$before" "$after"; exit 1
fi
$BIN/nbdev_clean; cleaned=$(snapshot)
if [ "$after" != "$cleaned" ]; then
  echo "FAIL: nbdev_clean changed notebooks; clean and commit:"; changed "$after" "$cleaned"; exit 1
fi
$BIN/sparse_nb readme --check
$BIN/python scripts/check_shape.py
$BIN/python scripts/check_imports.py
echo "repo checks passed: export in sync, notebooks clean, README in sync, shape, modules import"
