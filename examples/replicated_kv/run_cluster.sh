#!/usr/bin/env bash
# Starts three replicated_kv nodes on 127.0.0.1, runs a client against them, SIGKILLs and
# restarts the leader and then a follower, and checks that every acknowledged write is still
# readable. Bounded: a few hundred writes, about ten seconds.
#
#   examples/replicated_kv/run_cluster.sh [path/to/replicated_kv] [work dir]
set -euo pipefail
bin=${1:-build/examples/replicated_kv/replicated_kv}
work=${2:-$(mktemp -d -t strata-kv-XXXXXX)}
mkdir -p "$work"
members=(--member 1,127.0.0.1:17101,127.0.0.1:18101
         --member 2,127.0.0.1:17102,127.0.0.1:18102
         --member 3,127.0.0.1:17103,127.0.0.1:18103)
declare -A pid

start() {
  "$bin" --id "$1" --dir "$work/n$1" --election-ms 300 "${members[@]}" >>"$work/n$1.log" 2>&1 &
  pid[$1]=$!
  for _ in $(seq 100); do ask "$1" state >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "node $1 did not start; see $work/n$1.log" >&2
  return 1
}
stop_all() { for id in 1 2 3; do kill "${pid[$id]:-0}" 2>/dev/null || true; done; wait || true; }
trap stop_all EXIT

# ask ID LINE: one request to node ID's client port, one line back (bash's /dev/tcp).
ask() {
  exec 3<>"/dev/tcp/127.0.0.1/1810$1" || return 1
  printf '%s\n' "$2" >&3
  local reply
  IFS= read -r -t 12 reply <&3 || { exec 3>&-; return 1; }
  exec 3>&-
  printf '%s\n' "$reply"
}

leader() {
  for id in 1 2 3; do
    case "$(ask "$id" state 2>/dev/null || true)" in *role=leader*) echo "$id"; return;; esac
  done
  echo 0
}

acked=()
# put KEY VALUE through whoever leads, following REDIRECTs; records the key when OK.
put() {
  local target
  target=$(leader)
  for _ in $(seq 50); do
    [ "$target" = 0 ] && { sleep 0.1; target=$(leader); continue; }
    local reply
    reply=$(ask "$target" "put $1 $2" 2>/dev/null || true)
    case "$reply" in
      OK*) acked+=("$1"); return 0 ;;
      REDIRECT*) target=${reply##*:}; target=${target: -1} ;;
      *) sleep 0.1; target=$(leader) ;;
    esac
  done
}

for id in 1 2 3; do start "$id"; done
for i in $(seq 1 100); do put "k$i" "v$i"; done
l=$(leader); echo "leader is $l: SIGKILL"; kill -9 "${pid[$l]}"; wait "${pid[$l]}" 2>/dev/null || true
for i in $(seq 101 200); do put "k$i" "v$i"; done
start "$l"
f=$(( $(leader) % 3 + 1 )); echo "follower $f: SIGKILL"; kill -9 "${pid[$f]}"; wait "${pid[$f]}" 2>/dev/null || true
for i in $(seq 201 300); do put "k$i" "v$i"; done
start "$f"
sleep 1
l=$(leader)
echo "leader is $l; get k150 -> $(ask "$l" "get k150")"
missing=0
for id in 1 2 3; do
  for k in "${acked[@]}"; do
    [ "$(ask "$id" "lget $k")" = "VALUE v${k#k}" ] || { echo "node $id lacks $k" >&2; missing=1; }
  done
  echo "node $id: $(ask "$id" dump)"
done
echo "${#acked[@]} acknowledged writes, checked on all three nodes"
exit $missing
