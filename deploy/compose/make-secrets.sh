#!/usr/bin/env bash
# Makes the Compose secrets of the distributed profile, once: a random
# PostgreSQL password and the secrets file every CrowdLens role reads (the
# database URL with that password, a shared login-token secret). Users and API
# keys go in the same file (see its comments). Never overwrites existing files.
# Env: CROWDLENS_SECRETS_DIR (default deploy/compose/secrets; compose.yaml reads the same variable).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="${CROWDLENS_SECRETS_DIR:-$here/secrets}"
mkdir -p "$dir"
chmod 700 "$dir"
if [[ -f "$dir/postgres-password" && -f "$dir/crowdlens-secrets.yaml" ]]; then
  echo "make-secrets: $dir already holds the secrets (delete them to make new ones)"
  exit 0
fi
rand() { head -c 96 /dev/urandom | base64 -w0 | tr -d '+/=' | cut -c1-"$1"; }
password="$(rand 32)"
umask 022 # the containers' own users read the bind-mounted files; the folder stays 0700
printf '%s' "$password" >"$dir/postgres-password"
cat >"$dir/crowdlens-secrets.yaml" <<YAML
# Merged over config/distributed.yaml by every role (CROWDLENS_SECRETS_FILE).
store:
  type: postgres
  url: postgres://crowdlens:$password@postgres:5432/crowdlens
auth:
  tokenSecret: $(rand 43)
  # Without users or API keys auth is off: keep the port on 127.0.0.1 (compose.yaml) until you add some.
  #   docker run --rm -i crowdlens hash-password            # the passphrase on stdin -> passwordHash
  #   docker run --rm crowdlens hash-password --api-key     # a key and its keySha256
  # users:
  #   - { username: admin, role: admin, passwordHash: "scrypt\$..." }
  # apiKeys:
  #   - { name: grafana, role: viewer, keySha256: "..." }
YAML
echo "make-secrets: wrote $dir/postgres-password and $dir/crowdlens-secrets.yaml"
