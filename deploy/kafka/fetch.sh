#!/usr/bin/env bash
# Lays the Apache Kafka broker's runtime jars into $KAFKA_HOME/libs from Maven
# Central (no tarball download: only package registries are reachable).
# Idempotent: a complete cache (marker file for this pom) is reused.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
KAFKA_HOME="${KAFKA_HOME:-$repo/.cache/kafka}"
libs="$KAFKA_HOME/libs"
stamp="$libs/.fetched-$(sha256sum "$here/pom.xml" | cut -c1-16)"

if [[ -f "$stamp" ]]; then
  echo "kafka: jars cached in $libs"
  exit 0
fi

command -v java >/dev/null || { echo "kafka: java (17+) not found" >&2; exit 1; }
command -v mvn >/dev/null || { echo "kafka: mvn not found" >&2; exit 1; }

echo "kafka: fetching broker jars from Maven Central into $libs (first time only, takes a few minutes)"
rm -rf "$libs"
mkdir -p "$libs"
started=$(date +%s)
mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$libs" -DoverWriteIfNewer=true
touch "$stamp"
echo "kafka: $(ls "$libs"/*.jar | wc -l) jars in $(( $(date +%s) - started ))s"
