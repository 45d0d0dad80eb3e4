#!/usr/bin/env bash
# Starts and stops the database services the PostgreSQL test suites run against
# (docs/testing.md):
#   - a native PostgreSQL 15 cluster (no pgvector), made with initdb in a temp dir owned by a
#     non-root user (`postgres` when this runs as root), listening on loopback only;
#   - a PGlite server (PostgreSQL 18 in WASM, with pgvector and pg_trgm) from the npm versions
#     pinned in tools/pg/package-lock.json.
#
#   scripts/services.sh start   # starts both, waits until they answer, writes build/services.env
#   scripts/services.sh stop    # stops what start started and removes its temp dirs
#   scripts/services.sh status
#
# build/services.env holds `export KHIVE_PG_URL=...` and `export KHIVE_PGLITE_URL=...`: both
# connect as the server's superuser, which the tests use only to create a fresh schema and run
# migrations; the backend under test then connects as the non-superuser application role.
# Ports: the first free ones at or above KHIVE_PG_PORT (default 55442) and KHIVE_PGLITE_PORT
# (default 55450). Nothing listens on anything but 127.0.0.1.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state_dir="$root/build"
state="$state_dir/services.state"
env_file="$state_dir/services.env"
pg_bin=${KHIVE_PG_BIN:-/usr/lib/postgresql/15/bin}

log() { echo "khive services: $*" >&2; }
die() { log "$*"; exit 1; }

port_free() {
  # Free when nothing accepts a connection on it (bash's /dev/tcp: no iproute2 needed).
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
  local p=$1 last=$(( $1 + 40 ))
  while [ "$p" -le "$last" ]; do
    if port_free "$p"; then echo "$p"; return 0; fi
    p=$((p + 1))
  done
  die "no free port in $1..$last"
}

# Runs a command as the cluster's owner: `postgres` when we are root (initdb and postgres refuse
# to run as root), ourselves otherwise.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

wait_ready() {  # url, name, pid
  local url=$1 name=$2 pid=$3 i
  for i in $(seq 1 120); do
    if psql "$url" -XAtqc 'select 1' >/dev/null 2>&1; then return 0; fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}

start_postgres() {
  [ -x "$pg_bin/initdb" ] || die "PostgreSQL 15 binaries not found in $pg_bin: install postgresql-15 (scripts/debian-packages.txt)"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' user (created by the postgresql-15 package)"
  fi
  local dir port
  dir=$(mktemp -d /tmp/khive-pg15.XXXXXX)
  chmod 700 "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  port=$(free_port "${KHIVE_PG_PORT:-55442}")
  # trust on loopback only: the cluster is private to this test run and dies with it.
  as_owner "$pg_bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  # Durability settings are relaxed (fsync off): the cluster is throw-away test data. They go in
  # postgresql.conf rather than on the command line so that ALTER SYSTEM can switch them back
  # on (bench/pg_bench.cc measures both ways; a command-line setting would always win).
  printf '%s\n' "fsync = off" "synchronous_commit = off" "full_page_writes = off" \
    | as_owner tee -a "$dir/data/postgresql.conf" >/dev/null
  as_owner "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c max_connections=200 -c shared_buffers=128MB" \
    start >/dev/null || { cat "$dir/server.log" >&2; die "PostgreSQL 15 did not start"; }
  local pid url
  pid=$(head -1 "$dir/data/postmaster.pid")
  url="postgresql://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  wait_ready "$url" postgres15 "$pid" || { cat "$dir/server.log" >&2; die "PostgreSQL 15 is not answering on $port"; }
  echo "PG_DIR=$dir" >>"$state"
  echo "PG_PORT=$port" >>"$state"
  echo "export KHIVE_PG_URL='$url'" >>"$env_file"
  log "PostgreSQL $(psql "$url" -XAtqc 'show server_version') on 127.0.0.1:$port (data $dir)"
}

start_pglite() {
  command -v node >/dev/null || die "node not found: install nodejs and npm (scripts/debian-packages.txt)"
  local tools="$root/tools/pg"
  # npm ci installs exactly the pinned lock file; a stamp of the lock file's hash skips it
  # when that very install is already there.
  local want have=""
  want=$(sha256sum "$tools/package-lock.json" | cut -d' ' -f1)
  [ -f "$tools/node_modules/.khive-lock.sha256" ] && have=$(cat "$tools/node_modules/.khive-lock.sha256")
  if [ "$want" != "$have" ]; then
    log "installing the pinned PGlite packages (npm ci in tools/pg)"
    (cd "$tools" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci in tools/pg failed"
    echo "$want" >"$tools/node_modules/.khive-lock.sha256"
  fi
  local port dir pid url
  port=$(free_port "${KHIVE_PGLITE_PORT:-55450}")
  dir=$(mktemp -d /tmp/khive-pglite.XXXXXX)
  # -m 4: PGlite is single-user inside; the socket server queues up to 4 client connections.
  (cd "$tools" && exec setsid node node_modules/@electric-sql/pglite-socket/dist/scripts/server.js \
      -h 127.0.0.1 -p "$port" -m 4 -e @electric-sql/pglite-pgvector:vector,pg_trgm) >"$dir/server.log" 2>&1 &
  pid=$!
  echo "PGLITE_PID=$pid" >>"$state"
  echo "PGLITE_DIR=$dir" >>"$state"
  url="postgresql://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  wait_ready "$url" pglite "$pid" || { cat "$dir/server.log" >&2; die "PGlite server is not answering on $port"; }
  echo "export KHIVE_PGLITE_URL='$url'" >>"$env_file"
  log "PGlite $(psql "$url" -XAtqc 'show server_version') on 127.0.0.1:$port (pid $pid)"
}

stop_all() {
  [ -f "$state" ] || { rm -f "$env_file"; return 0; }
  local PG_DIR="" PGLITE_PID="" PGLITE_DIR="" PG_PORT=""
  # shellcheck disable=SC1090
  . "$state"
  if [ -n "$PG_DIR" ] && [ -d "$PG_DIR" ]; then
    if [ -f "$PG_DIR/data/postmaster.pid" ]; then
      as_owner "$pg_bin/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 || \
        kill "$(head -1 "$PG_DIR/data/postmaster.pid")" 2>/dev/null || true
    fi
    rm -rf "$PG_DIR"
    log "stopped PostgreSQL 15 (port $PG_PORT)"
  fi
  if [ -n "$PGLITE_PID" ]; then
    if kill -0 "$PGLITE_PID" 2>/dev/null; then
      kill "$PGLITE_PID" 2>/dev/null || true
      for _ in $(seq 1 20); do kill -0 "$PGLITE_PID" 2>/dev/null || break; sleep 0.25; done
      kill -9 "$PGLITE_PID" 2>/dev/null || true
    fi
    log "stopped PGlite (pid $PGLITE_PID)"
  fi
  [ -n "$PGLITE_DIR" ] && rm -rf "$PGLITE_DIR"
  rm -f "$state" "$env_file"
}

case "${1:-}" in
  start)
    mkdir -p "$state_dir"
    stop_all  # a previous run that was not stopped
    : >"$state"
    echo "# written by scripts/services.sh start; removed by stop" >"$env_file"
    trap 'stop_all' ERR
    start_postgres
    start_pglite
    trap - ERR
    log "wrote $env_file"
    ;;
  stop)
    stop_all
    ;;
  status)
    if [ -f "$env_file" ]; then cat "$env_file"; else echo "not running"; fi
    ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
