#!/usr/bin/env bash
# The Java consumer: builds the jar from jsii-pacmak's Java project, puts it in a local Maven
# repository, then compiles and runs ConsumerApp, which synthesizes into OUTDIR.
#   test/consumers/java/run.sh OUTDIR
# Needs `npm run package -- java-code` (or java). Maven's own cache (~/.m2) keeps downloads.
set -euo pipefail
outdir=$(realpath -m "$1")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The jsii runtime's own temporary folders go in here too, and with it.
mkdir "$work/tmp"
export TMPDIR="$work/tmp" MAVEN_OPTS="${MAVEN_OPTS:-} -Djava.io.tmpdir=$work/tmp"

# aws-cdk-lib 2.272.0: the newest aws-cdk-lib that Maven Central serves as this project's machines
# reach it (2.273.0 and later are missing, and its version list stops at 2.263.0, so no version
# range above that resolves). Set it to package.json's aws-cdk-lib once Maven Central serves it.
cdk_version=2.272.0
constructs_version=$(node -p "require('$root/package.json').devDependencies.constructs")

if [ -d "$root/dist/java/io" ]; then
  # A built package (npm run package -- java): dist/java is a Maven repository already.
  repo="$root/dist/java"
else
  # The generated project (npm run package -- java-code), built as jsii-pacmak builds it, but
  # against cdk_version: its own range ([package.json's peer,3.0.0)) cannot resolve here.
  cp -r "$root/dist/java-code/java" "$work/package"
  sed -i -E "/<artifactId>aws-cdk-lib<\/artifactId>/{n;s#<version>[^<]*</version>#<version>$cdk_version</version>#}" "$work/package/pom.xml"
  grep -q "<version>$cdk_version</version>" "$work/package/pom.xml"
  repo="$work/repo"
  (cd "$work/package" && mvn --batch-mode --quiet deploy -Dmaven.javadoc.skip=true -Dmaven.source.skip=true \
    -DaltDeploymentRepository="local::default::file://$repo")
fi

cp -r "$here/pom.xml" "$here/src" "$work/"
cd "$work"
mvn --batch-mode --quiet compile exec:java -Dpackage.repo="$repo" \
  -Dcdk.version="$cdk_version" -Dconstructs.version="$constructs_version" -Dexec.args="$outdir"
