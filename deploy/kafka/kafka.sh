#!/usr/bin/env bash
# Kafka's operator tools on the jars fetch.sh laid out (there is no Kafka
# tarball here, so no bin/kafka-*.sh): inspect topics, consumer-group lag and
# dead letters, change topic configs.
#
#   deploy/kafka/kafka.sh topics          --bootstrap-server 127.0.0.1:9092 --describe
#   deploy/kafka/kafka.sh consumer-groups --bootstrap-server 127.0.0.1:9092 --describe --all-groups
#   deploy/kafka/kafka.sh console-consumer --bootstrap-server 127.0.0.1:9092 \
#       --topic crowdlens.dead-letters.v1 --from-beginning --property print.key=true
#   deploy/kafka/kafka.sh configs         --bootstrap-server 127.0.0.1:9092 --alter \
#       --entity-type topics --entity-name crowdlens.face-crops.v1 --add-config retention.ms=300000
#
# Env: KAFKA_HOME (default <repo>/.cache/kafka), KAFKA_HEAP_OPTS (default -Xmx256m).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export KAFKA_HOME="${KAFKA_HOME:-$repo/.cache/kafka}"

tool="${1:-}"
case "$tool" in
  topics) main=org.apache.kafka.tools.TopicCommand ;;
  consumer-groups) main=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
  console-consumer) main=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
  configs) main=kafka.admin.ConfigCommand ;;
  *)
    echo "usage: deploy/kafka/kafka.sh topics|consumer-groups|console-consumer|configs [tool arguments]" >&2
    exit 2
    ;;
esac
shift

"$here/fetch.sh" >&2
# shellcheck disable=SC2086
exec java ${KAFKA_HEAP_OPTS:--Xmx256m} -Dlog4j2.configurationFile="$here/tools-log4j2.xml" \
  -cp "$KAFKA_HOME/libs/*" "$main" "$@"
