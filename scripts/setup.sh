#!/usr/bin/env bash
# `npm run setup`: everything the build and the tests need on a fresh Debian or Ubuntu machine, then
# a clean install of the npm dependencies. What is already there is left alone, so a warm machine
# skips apt. `.ci/run` runs it first.
set -euo pipefail
cd "$(dirname "$0")/.."

# What Debian has to bring, when absent (a warm machine skips apt):
# - AWS's Proton model (python3-botocore) and a second client (python3-boto3) for the local Proton
#   endpoint's conformance tests;
# - the jsii languages' toolchains: Python 3 with venv and pip, a JDK 17 with Maven.
packages=()
if ! dpkg-query -W python3-botocore python3-boto3 >/dev/null 2>&1 \
  || dpkg-query -W -f='${db:Status-Status}\n' python3-botocore python3-boto3 | grep -qv '^installed$'; then
  packages+=(python3-botocore python3-boto3)
fi
command -v python3 >/dev/null && python3 -c 'import ensurepip, venv' 2>/dev/null || packages+=(python3 python3-venv python3-pip)
command -v javac >/dev/null || packages+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || packages+=(maven)
if [ ${#packages[@]} -gt 0 ]; then
  # As root here; through sudo on a hosted runner (the build workflow).
  sudo=$([ "$(id -u)" -eq 0 ] || echo sudo)
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}"
fi
# Go 1.21 or later, which fetches the toolchain the generated go.mod asks for (go 1.25) from the
# module proxy by itself. Debian's Go (1.19) is too old: the machines and the build workflow bring one.
if ! go_version=$(go env GOVERSION 2>/dev/null) || ! printf '%s\n' go1.21 "$go_version" | sort -V -C; then
  echo "Go 1.21 or later is needed for the Go package and its consumer, found: ${go_version:-none}" >&2
  exit 1
fi

npm ci --no-audit --no-fund
