#!/bin/bash
# Joins the nodes named in NODES into one cluster through the first one, as
# CouchDB's _cluster_setup documents it, then finish_cluster (which creates
# _users, _replicator and _global_changes). Safe to run again.
set -euo pipefail
PASSWORD="$(tr -d '\r\n' </run/secrets/couchdb_admin_password)"
read -r -a nodes <<<"$NODES"
first="${nodes[0]}"
# Credentials reach curl through a config file and the body through stdin, never argv.
api() {
  local method="$1" url="$2" body="${3:-}"
  curl -fsS -K <(printf 'user = "%s:%s"\n' "$COUCHDB_USER" "$PASSWORD") -X "$method" \
    -H 'Content-Type: application/json' ${body:+--data-binary @-} "$url" <<<"$body"
}
state="$(api GET "http://$first:5984/_cluster_setup")"
if [[ "$state" == *cluster_finished* ]]; then
  echo "cluster already set up"
  exit 0
fi
for node in "${nodes[@]:1}"; do
  api POST "http://$first:5984/_cluster_setup" \
    "{\"action\":\"enable_cluster\",\"bind_address\":\"0.0.0.0\",\"username\":\"$COUCHDB_USER\",\"password\":\"$PASSWORD\",\"port\":5984,\"node_count\":${#nodes[@]},\"remote_node\":\"$node\",\"remote_current_user\":\"$COUCHDB_USER\",\"remote_current_password\":\"$PASSWORD\"}" >/dev/null
  api POST "http://$first:5984/_cluster_setup" \
    "{\"action\":\"add_node\",\"host\":\"$node\",\"port\":5984,\"username\":\"$COUCHDB_USER\",\"password\":\"$PASSWORD\"}" >/dev/null
  echo "added $node"
done
api POST "http://$first:5984/_cluster_setup" '{"action":"finish_cluster"}' >/dev/null
api GET "http://$first:5984/_membership"
echo "cluster set up"
