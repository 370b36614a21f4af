#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, builds, then runs the unit tests and the end-to-end tests
# (which start their own isolated berthd instances and clean up after themselves).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
bash scripts/install.sh
mapfile -t files < <(find dist/test/unit dist/test/e2e -name '*.test.js' 2>/dev/null | sort)
exec node --test --test-concurrency=1 --test-timeout=600000 "${files[@]}"
