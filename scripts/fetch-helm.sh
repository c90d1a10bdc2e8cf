#!/usr/bin/env bash
# Builds the Helm CLI from the Go module proxy into .cache/helm/bin (no
# GitHub release download is needed): go install helm.sh/helm/v3/cmd/helm.
# Needs Go 1.24+. Idempotent: a helm of this version already there is kept.
# Prints the binary's path as its last line.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="${HELM_VERSION:-v3.22.0}" # HELM_K8S_MINOR below goes with it
bin_dir="$repo/.cache/helm/$version-k8s1.${HELM_K8S_MINOR:-37}/bin"
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
# What helm's Makefile sets at link time: without these a `go install`ed helm
# says "v3.22" and renders for Kubernetes v1.20 (charts needing newer fail).
# Kubernetes 1.<minor> is the client-go v0.<minor> that helm release builds on.
k8s_minor="${HELM_K8S_MINOR:-37}"
ldflags="-X helm.sh/helm/v3/internal/version.version=$version"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done
GOBIN="$bin_dir" GOFLAGS=-mod=mod "$go" install -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$version" >&2
echo "fetch-helm: $("$helm" version --short) in $(( $(date +%s) - started ))s" >&2
echo "$helm"
