#!/bin/bash
# Sawa reads its configuration from the environment only; in production the
# secrets are files (Docker secrets under /run/secrets). Each file that exists
# becomes its variable, then the command runs. Values are never printed.
set -euo pipefail
from_file() {
  local var="$1" file="/run/secrets/$2"
  if [[ -r "$file" ]]; then
    export "$var=$(tr -d '\r\n' <"$file")"
  fi
}
from_file COUCHDB_PASSWORD couchdb_admin_password
from_file COUCHDB_PROXY_SECRET couchdb_proxy_secret
from_file JWT_SECRET jwt_secret
from_file METRICS_TOKEN metrics_token
exec "$@"
