#!/bin/bash
# Writes each missing secret file with 32 random bytes (base64url), mode 0600.
# Existing files are kept: running it again never rotates a secret.
set -euo pipefail
cd "$(dirname "$0")"
umask 077
for name in couchdb_admin_password couchdb_proxy_secret couchdb_erlang_cookie jwt_secret metrics_token; do
  if [[ ! -s "$name" ]]; then
    head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$name"
    echo "wrote $name"
  fi
done
