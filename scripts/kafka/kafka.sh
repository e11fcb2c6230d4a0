#!/usr/bin/env bash
# Stockroom: a real Apache Kafka broker for tests and CI, run from its Maven Central jars.
# One JVM, KRaft mode, combined broker+controller (node.id=1), plaintext on 127.0.0.1.
#
#   scripts/kafka/kafka.sh start [--wipe]  fetch jars if needed, format storage (wiped only when
#                                    asked: --wipe or KAFKA_KEEP_DATA=0), start, wait until the
#                                    broker answers a Metadata request; stdout gets exactly one
#                                    line, KAFKA_BROKERS=127.0.0.1:<port> (progress goes to stderr)
#   scripts/kafka/kafka.sh stop      SIGTERM, wait up to KAFKA_STOP_TIMEOUT s, then SIGKILL
#   scripts/kafka/kafka.sh status    exit 0 running and answering, 1 process alive but not
#                                    answering, 3 not running
#   scripts/kafka/kafka.sh restart   stop, then start
#   scripts/kafka/kafka.sh fetch     only make sure the jars are in the cache (for CI warm-up)
#
# Environment (defaults in brackets):
#   KAFKA_PORT [9092]  KAFKA_CONTROLLER_PORT [9093]  KAFKA_PARTITIONS [6] (num.partitions)
#   KAFKA_HOME_CACHE [~/.cache/stockroom/kafka-<version>]  jars go to $KAFKA_HOME_CACHE/libs
#   KAFKA_DATA_DIR [~/.cache/stockroom/kafka-data-<port>]  server.properties, pid, logs, data
#   KAFKA_KEEP_DATA [1]  1: keep topics/offsets across restarts (format only if not formatted),
#                        so a restart the documented way never deletes events on the bus;
#                        0: wipe the data and format afresh (the test runner and CI ask for
#                        this, as does `start --wipe`)
#   KAFKA_START_TIMEOUT [90]  KAFKA_STOP_TIMEOUT [30]  (seconds)
#   KAFKA_HEAP_OPTS [-Xmx512m -Xms256m]  KAFKA_JVM_OPTS [extra JVM flags]  JAVA [java]
#   KAFKA_CLUSTER_ID [fixed: c3RvY2tyb29tLWthZmthMQ]
#   KAFKA_OFFSETS_PARTITIONS [1]  KAFKA_TXN_PARTITIONS [1]  (internal topics; Kafka's default is 50)
#
# Needs: bash, java (17), and mvn for the first fetch only. Tested as root.
#
#   eval "$(scripts/kafka/kafka.sh start)"   # exports nothing, sets KAFKA_BROKERS in this shell
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
POM="$SCRIPT_DIR/pom.xml"
LOG4J="$SCRIPT_DIR/log4j.properties"

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM" | head -n 1)"
[[ -n $KAFKA_VERSION ]] || die "no <kafka.version> in $POM"

CACHE_ROOT="${HOME:-/tmp}/.cache/stockroom"
KAFKA_HOST=127.0.0.1
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_PARTITIONS="${KAFKA_PARTITIONS:-6}"
KAFKA_HOME_CACHE="${KAFKA_HOME_CACHE:-$CACHE_ROOT/kafka-$KAFKA_VERSION}"
KAFKA_DATA_DIR="${KAFKA_DATA_DIR:-$CACHE_ROOT/kafka-data-$KAFKA_PORT}"
KAFKA_KEEP_DATA="${KAFKA_KEEP_DATA:-1}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}"
KAFKA_JVM_OPTS="${KAFKA_JVM_OPTS:-}"
KAFKA_CLUSTER_ID="${KAFKA_CLUSTER_ID:-c3RvY2tyb29tLWthZmthMQ}" # base64url("stockroom-kafka1")

for v in KAFKA_PORT KAFKA_CONTROLLER_PORT KAFKA_PARTITIONS KAFKA_START_TIMEOUT KAFKA_STOP_TIMEOUT; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a number, got '${!v}'"
done
[[ $KAFKA_PORT != "$KAFKA_CONTROLLER_PORT" ]] || die "KAFKA_PORT and KAFKA_CONTROLLER_PORT must differ"

if [[ -n ${JAVA:-} ]]; then :
elif [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then JAVA="$JAVA_HOME/bin/java"
else JAVA=java
fi

LIBS="$KAFKA_HOME_CACHE/libs"
PID_FILE="$KAFKA_DATA_DIR/kafka.pid"
OUT_FILE="$KAFKA_DATA_DIR/kafka.out"        # JVM stdout/stderr (log4j console at WARN)
LOGS_DIR="$KAFKA_DATA_DIR/logs"             # log4j server.log at INFO
LOG_DIRS="$KAFKA_DATA_DIR/kraft-combined-logs"
PROPS="$KAFKA_DATA_DIR/server.properties"
BROKERS="$KAFKA_HOST:$KAFKA_PORT"

# ---------------------------------------------------------------- jars

ensure_jars() {
  local sum marker="$LIBS/.stockroom-complete"
  sum="$(sha256sum "$POM" | cut -d ' ' -f 1)"
  if [[ -f $marker && "$(cat "$marker")" == "$sum" && -f $LIBS/kafka_2.13-$KAFKA_VERSION.jar ]]; then
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (apt-get install -y maven); needed once to fetch Kafka $KAFKA_VERSION jars into $LIBS"
  mkdir -p "$KAFKA_HOME_CACHE"
  local tmp="$KAFKA_HOME_CACHE/libs.partial" t0=$SECONDS
  rm -rf "$tmp"
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $LIBS ..."
  # Output goes to a file (Debian's Maven 3.8 prints stray ANSI resets even with -q -B).
  if ! mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp" >"$KAFKA_HOME_CACHE/mvn.log" 2>&1; then
    tail -n 40 "$KAFKA_HOME_CACHE/mvn.log" >&2
    die "mvn dependency:copy-dependencies failed (full output: $KAFKA_HOME_CACHE/mvn.log)"
  fi
  [[ -f $tmp/kafka_2.13-$KAFKA_VERSION.jar ]] || die "kafka_2.13-$KAFKA_VERSION.jar missing after mvn"
  printf '%s\n' "$sum" >"$tmp/.stockroom-complete"
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  log "fetched $(find "$LIBS" -name '*.jar' | wc -l) jars in $((SECONDS - t0))s"
}

# ---------------------------------------------------------------- probes

# True if something accepts TCP connections on 127.0.0.1:$1.
port_open() {
  # shellcheck disable=SC2016  # $0/$1 expand in the inner bash
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$KAFKA_HOST" "$1" 2>/dev/null
}

# A real Kafka request: Metadata v4 for no topics (the broker list only) on 127.0.0.1:$1.
# Prints "node <id> at <host>:<port>, cluster <id>" and succeeds if at least one broker is
# registered; fails if nothing listens, the peer is not Kafka, or no broker is in the metadata.
kafka_probe() {
  local port=$1 raw
  # shellcheck disable=SC2016  # $0/$1/$n expand in the inner bash
  raw="$(timeout 5 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    # size=23 | api_key=3 (Metadata) | api_version=4 | correlation_id=42 | client_id="kafka.sh"
    # | topics=[] (no topics) | allow_auto_topic_creation=false
    printf "\x00\x00\x00\x17\x00\x03\x00\x04\x00\x00\x00\x2a\x00\x08kafka.sh\x00\x00\x00\x00\x00" >&3
    n=$(head -c 4 <&3 | od -An -tu4 --endian=big | tr -d " ")
    [[ $n =~ ^[0-9]+$ ]] && (( n > 12 && n < 1048576 )) || exit 1
    head -c "$n" <&3 | od -An -v -tu1
  ' "$KAFKA_HOST" "$port" 2>/dev/null)" || return 1
  (
    set +u
    read -r -d '' -a b <<<"$raw" || true   # od prints several lines: read them all
    i=0 v=0
    i16() { v=$(( b[i] << 8 | b[i+1] )); if (( v >= 32768 )); then v=$(( v - 65536 )); fi; i=$(( i + 2 )); }
    i32() { v=$(( b[i] << 24 | b[i+1] << 16 | b[i+2] << 8 | b[i+3] )); if (( v >= 2147483648 )); then v=$(( v - 4294967296 )); fi; i=$(( i + 4 )); }
    str() {
      i16; local n=$v k s=""
      if (( n < 0 )); then v=""; return 0; fi
      # shellcheck disable=SC2059  # the format is an octal escape, on purpose
      for (( k = 0; k < n; k++ )); do s+="$(printf "\\$(printf %03o "${b[i+k]}")")"; done
      i=$(( i + n )); v=$s
    }
    i32; (( v == 42 )) || exit 1          # correlation id
    i32                                   # throttle_time_ms
    i32; local count=$v
    (( count >= 1 && count < 1000 )) || exit 1
    local lines=() node host bport
    for (( j = 0; j < count; j++ )); do
      i32; node=$v; str; host=$v; i32; bport=$v; str  # rack
      lines+=("node $node at $host:$bport")
    done
    str; local cluster=$v
    (( i <= ${#b[@]} )) || exit 1
    for l in "${lines[@]}"; do printf '%s, cluster %s\n' "$l" "$cluster"; done
  )
}

# ---------------------------------------------------------------- process

pid_alive() { # $1 = pid: alive (not a zombie) and is our kafka.Kafka JVM
  local pid=$1 state
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r /proc/$pid/stat ]]; then
    state="$(sed -E 's/^.*\) (.).*$/\1/' "/proc/$pid/stat" 2>/dev/null || true)"
    [[ $state != Z ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
  fi
}

running_pid() { # prints the pid if our broker runs
  local pid
  [[ -f $PID_FILE ]] || return 1
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  pid_alive "$pid" || return 1
  printf '%s\n' "$pid"
}

take_lock() {
  mkdir -p "$KAFKA_DATA_DIR"
  exec 9>"$KAFKA_DATA_DIR/.lock"
  flock -w 180 9 || die "another kafka.sh holds $KAFKA_DATA_DIR/.lock"
}

show_failure_logs() {
  if [[ -f $OUT_FILE ]]; then log "--- last lines of $OUT_FILE"; tail -n 30 "$OUT_FILE" >&2 || true; fi
  if [[ -f $LOGS_DIR/server.log ]]; then
    log "--- last ERROR/WARN lines of $LOGS_DIR/server.log"
    grep -E ' (ERROR|WARN|FATAL) ' "$LOGS_DIR/server.log" | tail -n 20 >&2 || true
  fi
}

wait_ready() { # $1 = pid; waits until the broker answers Metadata, or dies, or times out
  local pid=$1 deadline=$(( SECONDS + KAFKA_START_TIMEOUT )) info
  while (( SECONDS < deadline )); do
    if ! pid_alive "$pid"; then
      rm -f "$PID_FILE"
      show_failure_logs
      die "broker (pid $pid) exited during startup; logs in $KAFKA_DATA_DIR"
    fi
    if info="$(kafka_probe "$KAFKA_PORT")"; then
      log "ready: $info"
      return 0
    fi
    sleep 0.5
  done
  show_failure_logs
  die "broker (pid $pid) not answering on $BROKERS after ${KAFKA_START_TIMEOUT}s (still running; 'kafka.sh stop' to end it)"
}

write_properties() {
  cat >"$PROPS" <<EOF
# Written by scripts/kafka/kafka.sh at every start; edits are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$LOG_DIRS
num.partitions=$KAFKA_PARTITIONS
default.replication.factor=1
auto.create.topics.enable=true
delete.topic.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
# One machine, small: fewer internal partitions make the first group join/transaction quick.
offsets.topic.num.partitions=${KAFKA_OFFSETS_PARTITIONS:-1}
transaction.state.log.num.partitions=${KAFKA_TXN_PARTITIONS:-1}
num.network.threads=2
num.io.threads=4
EOF
}

jvm_log_opts() {
  printf '%s\n' "-Dlog4j.configuration=file:$LOG4J" "-Dkafka.logs.dir=$LOGS_DIR"
}

format_storage() {
  local -a extra=() opts
  mapfile -t opts < <(jvm_log_opts)
  if [[ $KAFKA_KEEP_DATA == 1 ]]; then
    extra=(--ignore-formatted)
  else
    rm -rf "$LOG_DIRS"
  fi
  "$JAVA" "${opts[@]}" -Xmx256m -cp "$LIBS/*" kafka.tools.StorageTool format \
      -t "$KAFKA_CLUSTER_ID" -c "$PROPS" "${extra[@]}" >&2 9>&- \
    || die "kafka.tools.StorageTool format failed"
}

cmd_start() {
  local t0=$SECONDS pid info
  take_lock
  if pid="$(running_pid)"; then
    log "already running (pid $pid) on $BROKERS"
    wait_ready "$pid"
    printf 'KAFKA_BROKERS=%s\n' "$BROKERS"
    return 0
  fi
  rm -f "$PID_FILE"
  if info="$(kafka_probe "$KAFKA_PORT")"; then
    log "a Kafka broker not started by this script already answers on $BROKERS ($info); using it"
    printf 'KAFKA_BROKERS=%s\n' "$BROKERS"
    return 0
  fi
  port_open "$KAFKA_PORT" && die "port $KAFKA_PORT is taken by something that is not a Kafka broker"
  port_open "$KAFKA_CONTROLLER_PORT" && die "controller port $KAFKA_CONTROLLER_PORT is taken (set KAFKA_CONTROLLER_PORT)"
  command -v "$JAVA" >/dev/null || die "java not found (apt-get install -y openjdk-17-jre-headless)"

  ensure_jars
  mkdir -p "$KAFKA_DATA_DIR" "$LOGS_DIR"
  if [[ $KAFKA_KEEP_DATA != 1 ]]; then rm -rf "${LOGS_DIR:?}"/*; fi
  write_properties
  format_storage

  local -a heap jvm opts
  read -r -a heap <<<"$KAFKA_HEAP_OPTS"
  read -r -a jvm <<<"$KAFKA_JVM_OPTS"
  mapfile -t opts < <(jvm_log_opts)
  log "starting Kafka $KAFKA_VERSION (KRaft broker+controller) on $BROKERS, controller $KAFKA_HOST:$KAFKA_CONTROLLER_PORT, data $KAFKA_DATA_DIR"
  # setsid: own session, so the broker outlives the calling shell/test runner and does not get its
  # Ctrl-C. fd 9 (the lock) is closed so the broker does not hold it.
  (cd "$KAFKA_DATA_DIR" && exec setsid "$JAVA" "${heap[@]}" \
      -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
      "${opts[@]}" "${jvm[@]}" -cp "$LIBS/*" kafka.Kafka "$PROPS") \
    </dev/null >"$OUT_FILE" 2>&1 9>&- &
  pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"
  wait_ready "$pid"
  log "started (pid $pid) in $((SECONDS - t0))s; server log $LOGS_DIR/server.log"
  printf 'KAFKA_BROKERS=%s\n' "$BROKERS"
}

cmd_stop() {
  local pid deadline
  take_lock
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    log "not running (no live broker for $KAFKA_DATA_DIR)"
    return 0
  fi
  log "stopping broker (pid $pid) ..."
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$(( SECONDS + KAFKA_STOP_TIMEOUT ))
  while pid_alive "$pid" && (( SECONDS < deadline )); do sleep 0.5; done
  if pid_alive "$pid"; then
    log "still alive after ${KAFKA_STOP_TIMEOUT}s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    deadline=$(( SECONDS + 10 ))
    while pid_alive "$pid" && (( SECONDS < deadline )); do sleep 0.2; done
    pid_alive "$pid" && die "pid $pid survived SIGKILL"
  fi
  rm -f "$PID_FILE"
  log "stopped"
}

cmd_status() {
  local pid info
  if pid="$(running_pid)"; then
    if info="$(kafka_probe "$KAFKA_PORT")"; then
      log "running (pid $pid) on $BROKERS: $info"
      printf 'KAFKA_BROKERS=%s\n' "$BROKERS"
      return 0
    fi
    log "process alive (pid $pid) but not answering on $BROKERS"
    return 1
  fi
  if info="$(kafka_probe "$KAFKA_PORT")"; then
    log "a Kafka broker not started by this script answers on $BROKERS: $info"
    printf 'KAFKA_BROKERS=%s\n' "$BROKERS"
    return 0
  fi
  log "not running"
  return 3
}

case "${1:-}" in
  start) [[ ${2:-} == --wipe ]] && KAFKA_KEEP_DATA=0; cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  restart) cmd_stop; exec 9>&-; cmd_start ;;
  fetch) mkdir -p "$KAFKA_HOME_CACHE"; ensure_jars; log "jars ready in $LIBS" ;;
  *) printf 'usage: %s start [--wipe]|stop|status|restart|fetch\n' "$0" >&2; exit 2 ;;
esac
