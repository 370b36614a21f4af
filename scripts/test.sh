#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, builds, then runs the unit tests and the end-to-end tests
# (which start their own isolated berthd instances and clean up after themselves).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
bash scripts/install.sh
# Test files are taken from the sources, so a compiled test whose source was removed never runs.
mapfile -t files < <(find test/unit test/e2e -name '*.test.ts' | sort | sed -E 's#^(.*)\.ts$#dist/\1.js#')
exec node --test --test-concurrency=1 --test-timeout=600000 "${files[@]}"
