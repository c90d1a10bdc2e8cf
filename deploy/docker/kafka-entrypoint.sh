#!/bin/bash
# A single-node Apache Kafka 4.x (KRaft, combined broker + controller) for the
# Compose stack: the same broker settings as deploy/kafka/start.sh, listening on
# every interface and advertised under the service's name. Formats the data
# volume on first start only, so a restarted container keeps every message.
#
# Env: KAFKA_ADVERTISED_HOST (default: this container's hostname), KAFKA_PORT
#      (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_DATA_DIR (/var/lib/kafka/data),
#      KAFKA_CLUSTER_ID (default: random on first start), KAFKA_HEAP_OPTS.
set -euo pipefail

port="${KAFKA_PORT:-9092}"
controller="${KAFKA_CONTROLLER_PORT:-9093}"
advertised="${KAFKA_ADVERTISED_HOST:-$(hostname)}"
data="${KAFKA_DATA_DIR:-/var/lib/kafka/data}"
props=/tmp/server.properties
mkdir -p "$data"

cat >"$props" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller
listeners=PLAINTEXT://0.0.0.0:$port,CONTROLLER://127.0.0.1:$controller
advertised.listeners=PLAINTEXT://$advertised:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$data
# Topics are provisioned by the bus adapter with explicit partitions/retention.
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.check.interval.ms=60000
PROPS

cp=(-Dlog4j2.configurationFile=/opt/kafka/log4j2.xml -cp '/opt/kafka/libs/*')
if [[ ! -f "$data/meta.properties" ]]; then
  cluster_id="${KAFKA_CLUSTER_ID:-}"
  # Kafka cluster ids are 16 random bytes, base64url; never one that reads as a flag.
  while [[ -z "$cluster_id" || "$cluster_id" == -* ]]; do
    cluster_id="$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  done
  java "${cp[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$props"
fi

# shellcheck disable=SC2086
exec java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
  "${cp[@]}" kafka.Kafka "$props"
