#!/usr/bin/env bash
# Regenerates the reference data and the R reference values.
#   tests/reference/regenerate.sh            fits only: rewrite every expected.json from data.csv
#   tests/reference/regenerate.sh --data     also rewrite every data.csv first (make_data.py / make_data.R)
#   tests/reference/regenerate.sh CASE ...   fits only, for the named cases
# Needs Rscript with lme4, lmerTest, emmeans, pbkrtest and jsonlite; --data also needs Python with numpy
# (PYTHON, default: the repo's .venv/bin/python, else python3).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

if [[ "${1:-}" == "--data" ]]; then
  shift
  PY="${PYTHON:-$ROOT/.venv/bin/python}"
  [[ -x "$PY" ]] || PY=python3
  for dir in "$HERE"/*/; do
    if [[ -f "$dir/make_data.py" ]]; then
      echo "data: $(basename "$dir") (make_data.py)"
      "$PY" "$dir/make_data.py"
    elif [[ -f "$dir/make_data.R" ]]; then
      echo "data: $(basename "$dir") (make_data.R)"
      Rscript "$dir/make_data.R"
    fi
  done
fi

Rscript "$HERE/run_all.R" "$@"
