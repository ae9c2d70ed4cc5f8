#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server on 127.0.0.1:54329 (Debian's packages; installs them if missing)
# and prints its admin URL. The integration tests create a database per test on it when
# TEST_DATABASE_URL is set to that URL. Stop it with: scripts/postgres-for-tests.sh stop
set -euo pipefail
port=54329
data=/tmp/authkit-postgres
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
as_postgres() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [[ "${1:-}" == "stop" ]]; then
  [[ -n "$bin" && -d $data ]] && as_postgres "$bin/pg_ctl" -D $data -m fast stop >/dev/null 2>&1 || true
  exit 0
fi

if [[ -z "$bin" ]]; then
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
if ! as_postgres "$bin/pg_ctl" -D $data status >/dev/null 2>&1; then
  rm -rf $data
  mkdir -p $data
  [[ $(id -u) -eq 0 ]] && chown postgres:postgres $data
  as_postgres "$bin/initdb" -D $data -A trust -U postgres >/dev/null
  as_postgres "$bin/pg_ctl" -D $data -l $data/server.log -w \
    -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=500" start >/dev/null
fi
echo "postgres://postgres@127.0.0.1:$port/postgres"
