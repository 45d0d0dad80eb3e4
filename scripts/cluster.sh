#!/usr/bin/env bash
# khive past one machine, on loopback (docs/deployment.md): several `khive serve` processes
# behind HAProxy over PostgreSQL 15, a mixed read/write load through HAProxy, then a check that
# every acknowledged write is in the database.
#
#   scripts/cluster.sh [replicas] [--servers 3] [--replicas 2] [--clients 16] [--seconds 20]
#       one primary and its streaming replicas (pg_basebackup -R); each khive serve reads from
#       the replicas ([[backends]] replicas) and writes to the primary.
#   scripts/cluster.sh failover [--servers 3] [--clients 16] [--seconds 30]
#       a primary and a synchronous standby under pg_auto_failover (monitor on loopback); khive
#       connects with the multi-host URL (target_session_attrs=read-write). The primary is
#       stopped a third of the way in; writes resume on the promoted standby.
#
# Prints the load's JSON summary and `lost: N` (acknowledged writes missing afterwards). Exits
# non-zero when a write was lost. Needs the Debian packages postgresql-15, haproxy and (failover)
# postgresql-15-auto-failover, node, and a built khive (build/release/src/bin/khive or $KHIVE_BIN).
# Everything lives in a temp dir that is removed at the end (--keep leaves it, and stops nothing
# but the load).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pg_bin=${KHIVE_PG_BIN:-/usr/lib/postgresql/15/bin}
khive=${KHIVE_BIN:-$root/build/release/src/bin/khive}
mode=replicas
servers=3
replicas=2
clients=16
seconds=""
keep=0
[ "${1:-}" = replicas ] || [ "${1:-}" = failover ] && { mode=$1; shift; }
while [ $# -gt 0 ]; do
  case "$1" in
    --servers) servers=$2; shift 2 ;;
    --replicas) replicas=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "usage: $0 [replicas|failover] [--servers N] [--replicas N] [--clients N] [--seconds S] [--keep]" >&2; exit 2 ;;
  esac
done
[ -n "$seconds" ] || { [ "$mode" = failover ] && seconds=30 || seconds=20; }

log() { echo "khive cluster: $*" >&2; }
die() { log "$*"; exit 1; }
[ -x "$khive" ] || die "no khive binary at $khive: build it (cmake --build --preset release --target khive) or set KHIVE_BIN"
command -v haproxy >/dev/null || die "haproxy not found: apt-get install haproxy (scripts/debian-packages.txt)"
command -v node >/dev/null || die "node not found"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
next_port=${KHIVE_CLUSTER_PORT:-56000}
take_port() {  # sets $port to the next free port
  while ! port_free "$next_port"; do next_port=$((next_port + 1)); done
  port=$next_port
  next_port=$((next_port + 1))
}
as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

dir=$(mktemp -d /tmp/khive-cluster.XXXXXX)
chmod 755 "$dir"
[ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
pids=()
pgdirs=()
cleanup() {
  local p d
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$mode" = failover ] && [ -n "${monitor_dir:-}" ]; then
    for d in "${pgdirs[@]}" "$monitor_dir"; do as_owner pg_autoctl stop --pgdata "$d" --immediate >/dev/null 2>&1 || true; done
  fi
  for d in "${pgdirs[@]}"; do
    [ -f "$d/postmaster.pid" ] && as_owner "$pg_bin/pg_ctl" -D "$d" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  done
  if [ "$keep" = 1 ]; then log "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
trap "exit 130" INT TERM

wait_sql() {  # url: waits until it answers
  local i
  for i in $(seq 1 120); do psql "$1" -XAtqc 'select 1' >/dev/null 2>&1 && return 0; sleep 0.5; done
  return 1
}

# --- PostgreSQL: a primary and its streaming replicas -----------------------------------------
start_replicated() {
  take_port; local pport=$port
  as_owner "$pg_bin/initdb" -D "$dir/primary" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  printf '%s\n' "port = $pport" "listen_addresses = '127.0.0.1'" "unix_socket_directories = '$dir'" \
    "wal_level = replica" "max_wal_senders = 10" "max_replication_slots = 10" "hot_standby = on" \
    "max_connections = 300" "shared_buffers = 128MB" | as_owner tee -a "$dir/primary/postgresql.conf" >/dev/null
  as_owner "$pg_bin/pg_ctl" -D "$dir/primary" -l "$dir/primary.log" -w -t 60 start >/dev/null || die "primary did not start"
  pgdirs+=("$dir/primary")
  primary_url="postgresql://postgres@127.0.0.1:$pport/postgres?sslmode=disable"
  wait_sql "$primary_url" || die "primary not answering"
  replica_urls=()
  local i
  for i in $(seq 1 "$replicas"); do
    take_port
    psql "$primary_url" -XAtqc "SELECT pg_create_physical_replication_slot('replica_$i')" >/dev/null
    as_owner "$pg_bin/pg_basebackup" -h 127.0.0.1 -p "$pport" -U postgres -D "$dir/replica$i" -R -S "replica_$i" \
      -X stream -c fast >"$dir/basebackup$i.log" 2>&1 || { cat "$dir/basebackup$i.log" >&2; die "pg_basebackup failed"; }
    echo "port = $port" | as_owner tee -a "$dir/replica$i/postgresql.conf" >/dev/null
    as_owner "$pg_bin/pg_ctl" -D "$dir/replica$i" -l "$dir/replica$i.log" -w -t 60 start >/dev/null || die "replica $i did not start"
    pgdirs+=("$dir/replica$i")
    replica_urls+=("postgresql://postgres@127.0.0.1:$port/postgres?sslmode=disable")
    wait_sql "${replica_urls[-1]}" || die "replica $i not answering"
  done
  log "primary on $pport, $replicas streaming replica(s)"
}

# --- PostgreSQL: pg_auto_failover monitor, primary and synchronous standby -----------------------
start_auto_failover() {
  command -v pg_autoctl >/dev/null || die "pg_autoctl not found: apt-get install postgresql-15-auto-failover"
  export PG_CONFIG="$pg_bin/pg_config"
  take_port; local mport=$port
  monitor_dir="$dir/monitor"
  as_owner env PATH="$pg_bin:$PATH" pg_autoctl create monitor --pgdata "$monitor_dir" --pgport "$mport" \
    --hostname 127.0.0.1 --auth trust --no-ssl >"$dir/monitor-create.log" 2>&1 \
    || { cat "$dir/monitor-create.log" >&2; die "pg_autoctl create monitor failed"; }
  as_owner env PATH="$pg_bin:$PATH" pg_autoctl run --pgdata "$monitor_dir" >"$dir/monitor.log" 2>&1 &
  pids+=($!)
  monitor_url="postgres://autoctl_node@127.0.0.1:$mport/pg_auto_failover?sslmode=disable"
  wait_sql "$monitor_url" || die "monitor not answering"
  # Failure detection in seconds rather than the defaults' half minute: health checks every
  # second, a node unhealthy after 2 s, and a primary that does not answer given 3 s to demote
  # itself before its standby is promoted.
  local setting
  for setting in health_check_period=1000 health_check_timeout=1000 health_check_max_retries=1 \
      health_check_retry_delay=500 node_considered_unhealthy_timeout=2000 primary_demote_timeout=3000; do
    psql "postgres://postgres@127.0.0.1:$mport/pg_auto_failover?sslmode=disable" -XAtqc \
      "ALTER SYSTEM SET pgautofailover.${setting%%=*} = ${setting#*=}" >/dev/null
  done
  psql "postgres://postgres@127.0.0.1:$mport/pg_auto_failover?sslmode=disable" -XAtqc "SELECT pg_reload_conf()" >/dev/null
  local n ports=()
  for n in 1 2; do
    take_port
    ports+=("$port")
    as_owner env PATH="$pg_bin:$PATH" pg_autoctl create postgres --pgdata "$dir/node$n" --pgport "$port" \
      --hostname 127.0.0.1 --auth trust --no-ssl --monitor "$monitor_url" --name "node$n" \
      >"$dir/node$n-create.log" 2>&1 || { cat "$dir/node$n-create.log" >&2; die "pg_autoctl create postgres node$n failed"; }
    pgdirs+=("$dir/node$n")
    as_owner env PATH="$pg_bin:$PATH" pg_autoctl run --pgdata "$dir/node$n" >"$dir/node$n.log" 2>&1 &
    pids+=($!)
    # The first node becomes the primary before the second one joins as its standby.
    local i
    for i in $(seq 1 240); do
      state=$(as_owner env PATH="$pg_bin:$PATH" pg_autoctl show state --pgdata "$dir/node$n" 2>/dev/null \
        | awk -F'|' -v n="node$n" '{gsub(/ /, "", $1); gsub(/ /, "", $6); if ($1 == n) print $6}')
      if [ "$n" = 1 ] && [ "$state" = single ]; then break; fi
      if [ "$n" = 2 ] && [ "$state" = secondary ]; then break; fi
      sleep 0.5
    done
    [ "$i" -lt 240 ] || { cat "$dir/node$n.log" >&2; die "node$n did not reach its state (last: $state)"; }
  done
  # node1 is "primary" (not wait_primary) once node2 is a caught-up synchronous standby.
  for i in $(seq 1 240); do
    state=$(as_owner env PATH="$pg_bin:$PATH" pg_autoctl show state --pgdata "$dir/node1" 2>/dev/null \
      | awk -F'|' '{gsub(/ /, "", $1); gsub(/ /, "", $6); gsub(/ /, "", $7); if ($1 == "node1") print $6 "/" $7}')
    [ "$state" = primary/primary ] && break
    sleep 0.5
  done
  [ "$state" = primary/primary ] || die "node1 did not become primary with a standby (last: $state)"
  node1_url="postgresql://postgres@127.0.0.1:${ports[0]}/postgres?sslmode=disable&connect_timeout=1"
  primary_url="postgresql://postgres@127.0.0.1:${ports[0]},127.0.0.1:${ports[1]}/postgres?target_session_attrs=read-write&sslmode=disable"
  replica_urls=()
  as_owner env PATH="$pg_bin:$PATH" pg_autoctl show state --pgdata "$dir/node1" >&2
  log "synchronous_standby_names on node1: $(psql "postgresql://postgres@127.0.0.1:${ports[0]}/postgres" -XAtqc 'show synchronous_standby_names')"
  node1_dir="$dir/node1"
}

if [ "$mode" = failover ]; then start_auto_failover; else start_replicated; fi
# A database of khive's own (pg_auto_failover puts pg_stat_statements in postgres's public).
psql "$primary_url" -XAtqc "CREATE DATABASE khive" >/dev/null
primary_url=${primary_url/\/postgres\?/\/khive?}
for i in "${!replica_urls[@]}"; do
  replica_urls[$i]=${replica_urls[$i]/\/postgres\?/\/khive?}
  for _ in $(seq 1 60); do psql "${replica_urls[$i]}" -XAtqc 'select 1' >/dev/null 2>&1 && break; sleep 0.25; done
done

# --- khive serve x N, one config, one token file ---------------------------------------------
cfg="$dir/khive.toml"
{
  echo '[[backends]]'
  echo 'kind = "postgres"'
  echo "url = \"$primary_url\""
  if [ "${#replica_urls[@]}" -gt 0 ]; then
    printf 'replicas = ['; printf '"%s", ' "${replica_urls[@]}" | sed 's/, $//'; echo ']'
  fi
  echo '[server]'
  echo 'listen = "127.0.0.1"'
  echo 'workers = 8'
  echo "postgres_admin_url = \"$primary_url\""
  echo 'postgres_user = "khive_app"'
} >"$cfg"
: >"$dir/tokens.txt"
for c in $(seq 1 "$clients"); do
  "$khive" --json --config "$cfg" token create --actor "load$c" --write "ns$c" | node -e \
    'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).token))' >>"$dir/tokens.txt"
done
serve_ports=()
for s in $(seq 1 "$servers"); do
  take_port
  serve_ports+=("$port")
  "$khive" --config "$cfg" serve --port "$port" >"$dir/serve$s.log" 2>&1 &
  pids+=($!)
done
for p in "${serve_ports[@]}"; do
  for i in $(seq 1 120); do
    curl -fs "http://127.0.0.1:$p/readyz" >/dev/null 2>&1 && break
    sleep 0.5
  done
  [ "$i" -lt 120 ] || { cat "$dir"/serve*.log >&2; die "khive serve on $p is not ready"; }
done
log "$servers khive serve process(es) on ${serve_ports[*]}"

# --- HAProxy: one front door, balanced on the bearer token (a client stays on one server) ----
take_port; hport=$port
{
  cat <<EOF
global
  maxconn 2000
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  retries 2
  option redispatch
frontend khive
  bind 127.0.0.1:$hport
  default_backend khive_serve
backend khive_serve
  balance hdr(Authorization)
  hash-type consistent
  option httpchk GET /healthz
EOF
  for i in "${!serve_ports[@]}"; do echo "  server serve$((i + 1)) 127.0.0.1:${serve_ports[$i]} check inter 500ms"; done
} >"$dir/haproxy.cfg"
haproxy -f "$dir/haproxy.cfg" -db >"$dir/haproxy.log" 2>&1 &
pids+=($!)
for i in $(seq 1 60); do curl -s -o /dev/null "http://127.0.0.1:$hport/readyz" && break; sleep 0.25; done
log "HAProxy on 127.0.0.1:$hport"

# --- the load ----------------------------------------------------------------------------------
stop=()
if [ "$mode" = failover ]; then
  # Stops node1, the primary: its keeper and its PostgreSQL, at once (immediate shutdown).
  # The command returns once node1 refuses connections.
  stopper="pg_autoctl stop --pgdata $node1_dir --immediate"
  [ "$(id -u)" -eq 0 ] && stopper="runuser -u postgres -- env PATH=$pg_bin:\$PATH $stopper"
  stopper="$stopper; while psql '$node1_url' -XAtqc 'select 1' >/dev/null 2>&1; do sleep 0.02; done"
  stop=(--stop-after "$((seconds / 3))" --stop-cmd "$stopper")
fi
summary=$(node "$root/bench/cluster_load.mjs" --url "http://127.0.0.1:$hport" --tokens "$dir/tokens.txt" \
  --seconds "$seconds" --clients "$clients" --write-ratio 0.3 --acked "$dir/acked.txt" "${stop[@]}")
echo "$summary"

# --- every acknowledged write is there ---------------------------------------------------------
check_url=$primary_url
acked=$(wc -l <"$dir/acked.txt")
present=$(psql "$check_url" -XAtq -v ON_ERROR_STOP=1 <<EOF
CREATE TEMP TABLE acked (id uuid);
\\copy acked FROM '$dir/acked.txt'
SELECT count(*) FROM acked a WHERE EXISTS (SELECT 1 FROM public.entities e WHERE e.id = a.id);
EOF
)
lost=$((acked - present))
echo "acknowledged: $acked present: $present lost: $lost"
# Where the reads went: transactions each server ran in the database (the replicas run only reads).
for u in "$primary_url" "${replica_urls[@]}"; do
  n=$(psql "$u" -XAtqc "SELECT xact_commit FROM pg_stat_database WHERE datname = 'khive'" 2>/dev/null || echo "?")
  echo "transactions on ${u#*@}: $n"
done
if [ "$mode" = failover ]; then
  as_owner env PATH="$pg_bin:$PATH" pg_autoctl show state --pgdata "$dir/node2" >&2 || true
fi
[ "$lost" -eq 0 ]
