#!/usr/bin/env bash
# The Python consumer: a fresh virtual environment with the wheel jsii-pacmak built, then app.py,
# which synthesizes into OUTDIR.
#   test/consumers/python/run.sh OUTDIR
# Needs `npm run package -- python`. pip's own cache (~/.cache/pip) keeps downloads.
set -euo pipefail
outdir=$(realpath -m "$1")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# aws-cdk-lib 2.275.0: the newest aws-cdk-lib that PyPI serves as this project's machines reach it
# (package.json's 2.276.0 is missing). The wheel asks for package.json's peer range, so it goes in
# with --no-deps and its other requirements are installed as it states them. Set cdk_version to
# package.json's aws-cdk-lib, and drop --no-deps, once PyPI serves it.
cdk_version=2.275.0
constructs_version=$(node -p "require('$root/package.json').devDependencies.constructs")
wheel=$(ls "$root"/dist/python/*.whl)
others=$(python3 - "$wheel" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    metadata = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    requires = [line.split(":", 1)[1].strip().replace(" ", "") for line in wheel.read(metadata).decode().splitlines() if line.startswith("Requires-Dist:")]
print("\n".join(r for r in requires if not r.startswith(("aws-cdk-lib", "constructs"))))
PY
)

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check --no-compile --no-deps "$wheel"
# shellcheck disable=SC2086
"$work/venv/bin/pip" install --quiet --disable-pip-version-check --no-compile \
  "aws-cdk-lib==$cdk_version" "constructs==$constructs_version" $others
"$work/venv/bin/python" "$here/app.py" "$outdir"
