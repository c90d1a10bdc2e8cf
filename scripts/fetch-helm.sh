#!/usr/bin/env bash
# Builds the Helm CLI from the Go module proxy into .cache/helm/bin (no
# GitHub release download is needed): go install helm.sh/helm/v3/cmd/helm.
# Needs Go 1.24+. Idempotent: a helm of this version already there is kept.
# Prints the binary's path as its last line.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="${HELM_VERSION:-v3.22.0}"
bin_dir="$repo/.cache/helm/$version/bin"
helm="$bin_dir/helm"

if [ -x "$helm" ]; then
  echo "$helm"
  exit 0
fi
command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || { echo "fetch-helm: go (1.24+) not found" >&2; exit 1; }
go="$(command -v go || echo /usr/local/go/bin/go)"
started=$(date +%s)
echo "fetch-helm: go install helm.sh/helm/v3/cmd/helm@$version (first time only, a few minutes)" >&2
mkdir -p "$bin_dir"
GOBIN="$bin_dir" GOFLAGS=-mod=mod "$go" install "helm.sh/helm/v3/cmd/helm@$version" >&2
echo "fetch-helm: $("$helm" version --short) in $(( $(date +%s) - started ))s" >&2
echo "$helm"
