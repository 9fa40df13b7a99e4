#!/usr/bin/env bash
# The Go consumer: main.go against the module jsii-pacmak generated (a replace directive in
# go.mod), built and run; it synthesizes into OUTDIR.
#   test/consumers/go/run.sh OUTDIR
# Needs `npm run package -- go`. Go's module and build caches (go env GOMODCACHE GOCACHE) keep
# downloads and compiled packages.
set -euo pipefail
outdir=$(realpath -m "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The jsii runtime's own temporary folders go in here too, and with it.
mkdir "$work/tmp"
export TMPDIR="$work/tmp"

cd "$here"
# -mod=mod: go.sum is completed from the module proxy, for the generated module's requirements too.
GOFLAGS=-mod=mod go build -o "$work/consumer" .
"$work/consumer" "$outdir"
