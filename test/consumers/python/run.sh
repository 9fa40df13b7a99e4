#!/usr/bin/env bash
# The Python consumer: a fresh virtual environment with the wheel jsii-pacmak built, then app.py,
# which synthesizes into OUTDIR.
#   test/consumers/python/run.sh OUTDIR
# Needs `npm run package -- python`. Downloads are kept in a wheelhouse (below).
set -euo pipefail
outdir=$(realpath -m "$1")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The jsii runtime's own temporary folders go in here too, and with it.
mkdir "$work/tmp"
export TMPDIR="$work/tmp"

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

# The CDK's wheels are kept in a wheelhouse of their own: pip's HTTP cache keeps nothing from the
# package index these machines reach, and aws-cdk-lib's wheel is large.
wheelhouse="${XDG_CACHE_HOME:-$HOME/.cache}/cdk-proton-cancel-pipeline-deployment/wheels"
# shellcheck disable=SC2206
requirements=("aws-cdk-lib==$cdk_version" "constructs==$constructs_version" $others)
pip=("$work/venv/bin/pip" --quiet --disable-pip-version-check)

python3 -m venv "$work/venv"
"${pip[@]}" install --no-compile --no-deps "$wheel"
if ! "${pip[@]}" install --no-compile --no-index --find-links "$wheelhouse" "${requirements[@]}" 2>/dev/null; then
  "${pip[@]}" download --dest "$wheelhouse" "${requirements[@]}"
  "${pip[@]}" install --no-compile --no-index --find-links "$wheelhouse" "${requirements[@]}"
fi
"$work/venv/bin/python" "$here/app.py" "$outdir"
