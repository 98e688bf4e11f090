#!/bin/bash
# Reads CouchDB's secrets from files (Docker secrets under /run/secrets) into
# the variables the official image understands, then hands over to its own
# entrypoint. Nothing secret is echoed.
set -euo pipefail
read_secret() { tr -d '\r\n' <"/run/secrets/$1"; }
COUCHDB_PASSWORD="$(read_secret couchdb_admin_password)"
# [chttpd_auth] secret: signs proxy-auth tokens; must equal Sawa's COUCHDB_PROXY_SECRET.
COUCHDB_SECRET="$(read_secret couchdb_proxy_secret)"
export COUCHDB_PASSWORD COUCHDB_SECRET
if [[ -r /run/secrets/couchdb_erlang_cookie ]]; then
  # Nodes of one cluster share the Erlang cookie; the drill node does not need it.
  COUCHDB_ERLANG_COOKIE="$(read_secret couchdb_erlang_cookie)"
  export COUCHDB_ERLANG_COOKIE
fi
exec /docker-entrypoint.sh "$@"
