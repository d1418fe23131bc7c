#!/usr/bin/env bash
# The cluster demo (issue 15): 3 nats-server processes with JetStream and cluster routes on
# free loopback ports (temporary directories), two engine nodes (node A takes both shards'
# leases first, node B is the standby of both), and a gateway replaying a long command
# stream. Mid-stream it kills one NATS server and node A (primary for shard 0), brings
# nothing back, lets node B take over, and compares the de-duplicated event streams with
# `flowmatch replay` of the same input. Last line:
#   commands N; events identical to single-process replay: yes|no; lost L; duplicated D
# Exit 0 only for yes, 0, 0. Every process it starts is stopped by the trap.
# Env: FLOWMATCH, FLOWMATCH_CLUSTER (binaries; built with cargo when unset),
#      COMMANDS (default 20000), RATE (commands/s, 0 = unpaced; default 2000), REPLICAS
#      (default 3), KILL (default 1; 0 = no failure injected, for the benchmarks).
set -euo pipefail
cd "$(dirname "$0")/.."
COMMANDS=${COMMANDS:-20000}
RATE=${RATE:-2000}
REPLICAS=${REPLICAS:-3}
KILL=${KILL:-1}
command -v nats-server >/dev/null || { echo "nats-server not found (apt-get install -y nats-server)"; exit 2; }
if [ -z "${FLOWMATCH:-}" ] || [ -z "${FLOWMATCH_CLUSTER:-}" ]; then
  cargo build -q -p flowmatch-harness --bin flowmatch -p flowmatch-cluster --bin flowmatch-cluster
  FLOWMATCH=${FLOWMATCH:-target/debug/flowmatch}
  FLOWMATCH_CLUSTER=${FLOWMATCH_CLUSTER:-target/debug/flowmatch-cluster}
fi
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "${KEEP_WORK:-}" ]; then echo "logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT INT TERM

# Six free loopback ports (client + route for each server).
read -r -a PORTS <<<"$(python3 -c '
import socket
ss=[socket.socket() for _ in range(6)]
for s in ss: s.bind(("127.0.0.1",0))
print(" ".join(str(s.getsockname()[1]) for s in ss))
for s in ss: s.close()')"
ROUTES="nats://127.0.0.1:${PORTS[3]},nats://127.0.0.1:${PORTS[4]},nats://127.0.0.1:${PORTS[5]}"
for i in 0 1 2; do
  mkdir -p "$WORK/n$i"
  nats-server -a 127.0.0.1 -p "${PORTS[$i]}" -n "fm$i" -js -sd "$WORK/n$i" \
    --cluster_name flowmatch --cluster "nats://127.0.0.1:${PORTS[$((i + 3))]}" --routes "$ROUTES" \
    >"$WORK/nats$i.log" 2>&1 &
  PIDS+=($!)
done
NATS_PIDS=("${PIDS[@]}")
URLS="nats://127.0.0.1:${PORTS[0]},nats://127.0.0.1:${PORTS[1]},nats://127.0.0.1:${PORTS[2]}"
SURVIVORS="nats://127.0.0.1:${PORTS[1]},nats://127.0.0.1:${PORTS[2]}"

# A long deterministic stream over 6 instruments: resting and crossing limit orders, cancels.
awk -v n="$COMMANDS" 'BEGIN {
  split("AAPL MSFT IBM GOOG AMZN TSLA", sym, " "); x = 12345;
  for (i = 1; i <= n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648; s = sym[1 + int(x / 7) % 6];
    r = int(x / 131) % 10;
    if (r < 2 && i > 10) { print s ":C," (i - 1 - int(x / 3) % 10) }
    else { side = (int(x / 17) % 2) ? "B" : "S"; px = 95 + int(x / 19) % 11; q = 1 + int(x / 23) % 9;
           print s ":N," i "," (1 + int(x / 29) % 7) "," side ",L," px "," q }
  } }' >"$WORK/cmds.txt"
"$FLOWMATCH" replay --input "$WORK/cmds.txt" >"$WORK/oracle.txt"

"$FLOWMATCH_CLUSTER" node --nats "$URLS" --shards 0,1 --id A --replicas "$REPLICAS" 2>"$WORK/nodeA.log" &
NODE_A=$!; PIDS+=($NODE_A)
for _ in $(seq 1 300); do
  [ "$(grep -c ': primary ' "$WORK/nodeA.log" || true)" -ge 2 ] && break; sleep 0.1
done
[ "$(grep -c ': primary ' "$WORK/nodeA.log" || true)" -ge 2 ] || { echo "node A never became primary"; cat "$WORK"/nodeA.log; exit 1; }
"$FLOWMATCH_CLUSTER" node --nats "$URLS" --shards 0,1 --id B --replicas "$REPLICAS" 2>"$WORK/nodeB.log" &
PIDS+=($!)
"$FLOWMATCH_CLUSTER" gateway --nats "$URLS" --input "$WORK/cmds.txt" --shards 2 --replicas "$REPLICAS" --rate "$RATE" >"$WORK/gateway.log" 2>&1 &
GATEWAY=$!; PIDS+=($GATEWAY)

# Mid-stream: lose one NATS server and the primary engine node.
KILL_NS=0
if [ "$KILL" = 1 ]; then
  sleep "$(python3 -c "print($COMMANDS / max($RATE, 1) / 2 if $RATE else 1)")"
  kill -9 "${NATS_PIDS[0]}"
  KILL_NS=$(date +%s%N)
  kill -9 "$NODE_A"
  echo "killed nats server fm0 and node A at $KILL_NS"
fi

wait "$GATEWAY" || { echo "gateway failed"; cat "$WORK/gateway.log"; exit 1; }
cat "$WORK/gateway.log"
set +e
[ "$KILL" = 1 ] || SURVIVORS=$URLS
"$FLOWMATCH_CLUSTER" verify --nats "$SURVIVORS" --input "$WORK/cmds.txt" --oracle "$WORK/oracle.txt" --shards 2 >"$WORK/verify.log" 2>&1
RC=$?
set -e
[ "$KILL" = 1 ] && grep ': primary ' "$WORK/nodeB.log" | while read -r line; do
  at=$(sed -n 's/.*at_ns=\([0-9]*\).*/\1/p' <<<"$line")
  echo "$line (failover $(( (at - KILL_NS) / 1000000 )) ms after the kill)"
done
[ $RC -eq 0 ] || { echo "--- node B log"; tail -20 "$WORK/nodeB.log"; }
cat "$WORK/verify.log"
tail -1 "$WORK/verify.log" | grep -q '^commands ' || echo "commands $COMMANDS; events identical to single-process replay: no; lost -1; duplicated -1"
exit $RC
