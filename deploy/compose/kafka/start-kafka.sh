#!/bin/sh
# Starts the docker-compose Kafka with SCRAM-SHA-512. The passwords come from the compose secrets
# (files under /run/secrets, never environment values). The users are created when the storage is
# formatted (kafka-storage format --add-scram, KIP-900), so they exist before the first client
# connects; formatting happens once, on an empty data directory.
#   broker  the broker's own user (inter-broker listener, and this container's health check)
#   ledger  the services (KAFKA_SASL_USERNAME=ledger, KAFKA_SASL_PASSWORD_FILE)
#   erp     the ERP publishing erp.orders.v1 on localhost:29092
# Passwords go into properties and the format command unquoted: letters, digits, '-' and '_'.
set -eu
secret() { tr -d '\r\n' < "/run/secrets/$1"; }
broker_password=$(secret kafka_broker_password)
ledger_password=$(secret kafka_ledger_password)
erp_password=$(secret kafka_erp_password)

config=/tmp/server.properties
cp /etc/ledger-kafka/server.properties "$config"
login='org.apache.kafka.common.security.scram.ScramLoginModule required'
{
  echo "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=$login username=\"broker\" password=\"$broker_password\";"
  echo "listener.name.host.scram-sha-512.sasl.jaas.config=$login;"
} >> "$config"
umask 077
cat > /tmp/client.properties <<PROPERTIES
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=$login username="broker" password="$broker_password";
PROPERTIES

if [ ! -f /tmp/kraft-combined-logs/meta.properties ]; then
  /opt/kafka/bin/kafka-storage.sh format --cluster-id "$CLUSTER_ID" --config "$config" \
    --add-scram "SCRAM-SHA-512=[name=broker,password=$broker_password]" \
    --add-scram "SCRAM-SHA-512=[name=ledger,password=$ledger_password]" \
    --add-scram "SCRAM-SHA-512=[name=erp,password=$erp_password]"
fi
exec /opt/kafka/bin/kafka-server-start.sh "$config"
