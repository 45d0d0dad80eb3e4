#!/usr/bin/env bash
# Starts and stops the database services the PostgreSQL test suites run against
# (docs/testing.md):
#   - a native PostgreSQL 15 cluster (no pgvector), made with initdb in a temp dir owned by a
#     non-root user (`postgres` when this runs as root), listening on loopback only;
#   - a PGlite server (PostgreSQL 18 in WASM, with pgvector and pg_trgm) from the npm versions
#     pinned in tools/pg/package-lock.json;
#   - a PostgreSQL 15 primary with a hot standby streaming from it (pg_basebackup -R, a physical
#     replication slot), for the read replica suite. A pair of its own, not the cluster above:
#     that suite stops and restarts both servers, which other suites must not see.
#
#   scripts/services.sh start   # starts both, waits until they answer, writes build/services.env
#   scripts/services.sh stop    # stops what start started and removes its temp dirs
#   scripts/services.sh status
#   scripts/services.sh repl primary|replica stop|start   # the replication pair's servers (tests)
#
# build/services.env holds `export KHIVE_PG_URL=...` and `export KHIVE_PGLITE_URL=...`, and
# KHIVE_PG_REPL_PRIMARY_URL / KHIVE_PG_REPLICA_URL for the replication pair: all
# connect as the server's superuser, which the tests use only to create a fresh schema and run
# migrations; the backend under test then connects as the non-superuser application role.
# Ports: the first free ones at or above KHIVE_PG_PORT (default 55442), KHIVE_PGLITE_PORT
# (default 55450) and KHIVE_PG_REPL_PORT (default 55460). Nothing listens on anything but 127.0.0.1.
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

# The replication pair: a primary with wal_level=replica and a slot, and a standby made from it
# by pg_basebackup -R (primary_conninfo and standby.signal written for us), hot_standby on.
# Each server's port and socket directory are in its postgresql.conf, so `repl ... start`
# restarts it as it was.
start_replication() {
  local dir pport rport purl rurl
  dir=$(mktemp -d /tmp/khive-pgrepl.XXXXXX)
  chmod 700 "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  echo "REPL_DIR=$dir" >>"$state"
  pport=$(free_port "${KHIVE_PG_REPL_PORT:-55460}")
  as_owner "$pg_bin/initdb" -D "$dir/primary" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb (replication primary) failed"; }
  # initdb's pg_hba.conf already trusts replication connections from 127.0.0.1.
  # full_page_writes stays on: pg_basebackup refuses WAL written without it. synchronous_commit
  # stays on so a commit is sent to the replica at once (the read-your-writes tests time it).
  printf '%s\n' "port = $pport" "listen_addresses = '127.0.0.1'" "unix_socket_directories = '$dir'" \
    "fsync = off" "wal_level = replica" "max_wal_senders = 4" \
    "max_replication_slots = 4" "hot_standby = on" "max_connections = 100" "shared_buffers = 32MB" \
    | as_owner tee -a "$dir/primary/postgresql.conf" >/dev/null
  as_owner "$pg_bin/pg_ctl" -D "$dir/primary" -l "$dir/primary.log" -w -t 60 start >/dev/null \
    || { cat "$dir/primary.log" >&2; die "the replication primary did not start"; }
  purl="postgresql://postgres@127.0.0.1:$pport/postgres?sslmode=disable"
  wait_ready "$purl" repl-primary "$(head -1 "$dir/primary/postmaster.pid")" || die "the replication primary is not answering on $pport"
  psql "$purl" -XAtqc "SELECT pg_create_physical_replication_slot('khive_replica')" >/dev/null
  rport=$(free_port $((pport + 1)))
  as_owner "$pg_bin/pg_basebackup" -h 127.0.0.1 -p "$pport" -U postgres -D "$dir/replica" -R -S khive_replica \
    -X stream -c fast >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; die "pg_basebackup failed"; }
  printf '%s\n' "port = $rport" | as_owner tee -a "$dir/replica/postgresql.conf" >/dev/null
  as_owner "$pg_bin/pg_ctl" -D "$dir/replica" -l "$dir/replica.log" -w -t 60 start >/dev/null \
    || { cat "$dir/replica.log" >&2; die "the replica did not start"; }
  rurl="postgresql://postgres@127.0.0.1:$rport/postgres?sslmode=disable"
  wait_ready "$rurl" replica "$(head -1 "$dir/replica/postmaster.pid")" || die "the replica is not answering on $rport"
  local i
  for i in $(seq 1 60); do
    [ "$(psql "$purl" -XAtqc "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" = 1 ] && break
    sleep 0.5
  done
  [ "$i" -lt 60 ] || { cat "$dir/replica.log" >&2; die "the replica is not streaming from the primary"; }
  echo "export KHIVE_PG_REPL_PRIMARY_URL='$purl'" >>"$env_file"
  echo "export KHIVE_PG_REPLICA_URL='$rurl'" >>"$env_file"
  log "PostgreSQL 15 primary on 127.0.0.1:$pport with a streaming replica on 127.0.0.1:$rport (data $dir)"
}

# repl primary|replica stop|start
repl_ctl() {
  local which=${1:-} action=${2:-} REPL_DIR=""
  [ -f "$state" ] && . "$state"
  [ -n "$REPL_DIR" ] && [ -d "$REPL_DIR/$which" ] || die "no replication $which running (scripts/services.sh start)"
  case "$action" in
    stop) as_owner "$pg_bin/pg_ctl" -D "$REPL_DIR/$which" -m fast -w -t 30 stop >/dev/null ;;
    start) as_owner "$pg_bin/pg_ctl" -D "$REPL_DIR/$which" -l "$REPL_DIR/$which.log" -w -t 60 start >/dev/null ;;
    *) die "usage: $0 repl primary|replica stop|start" ;;
  esac
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
  local PG_DIR="" PGLITE_PID="" PGLITE_DIR="" PG_PORT="" REPL_DIR=""
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
  if [ -n "$REPL_DIR" ] && [ -d "$REPL_DIR" ]; then
    local d
    for d in replica primary; do
      if [ -f "$REPL_DIR/$d/postmaster.pid" ]; then
        as_owner "$pg_bin/pg_ctl" -D "$REPL_DIR/$d" -m immediate -w -t 30 stop >/dev/null 2>&1 || \
          kill "$(head -1 "$REPL_DIR/$d/postmaster.pid")" 2>/dev/null || true
      fi
    done
    rm -rf "$REPL_DIR"
    log "stopped the replication primary and replica"
  fi
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
    start_replication
    trap - ERR
    log "wrote $env_file"
    ;;
  stop)
    stop_all
    ;;
  repl)
    repl_ctl "${2:-}" "${3:-}"
    ;;
  status)
    if [ -f "$env_file" ]; then cat "$env_file"; else echo "not running"; fi
    ;;
  *)
    echo "usage: $0 start|stop|status|repl primary|replica stop|start" >&2
    exit 2
    ;;
esac
