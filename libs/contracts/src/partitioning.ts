/**
 * Which partition of a topic a message keyed `key` is in: Kafka's default partitioner
 * (murmur2 of the key's UTF-8 bytes, made positive, modulo the partition count) — what the
 * relay's producer uses (kafkajs `Partitioners.DefaultPartitioner`, the Java client's). Every
 * message of ledger.entitlements.v1 is keyed by its customer, so this says which enforcement
 * view shard holds a customer (VIEW_PARTITIONS), for the SDK and any router in front of the shards.
 */
export function partitionOf(key: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  return (murmur2(new TextEncoder().encode(key)) & 0x7fffffff) % partitions;
}

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils#murmur2), in 32-bit arithmetic. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = length & 3;
  if (rest > 0) {
    if (rest === 3) h ^= data[whole + 2]! << 16;
    if (rest >= 2) h ^= data[whole + 1]! << 8;
    h ^= data[whole]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * Parses a partition list as VIEW_PARTITIONS gives it: "0-3,6" → [0, 1, 2, 3, 6]. Throws a
 * RangeError saying what is wrong with it.
 */
export function parsePartitionList(text: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(',').map((p) => p.trim())) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
    if (!m) throw new RangeError(`"${part}" is not a partition or a range of them (e.g. 0-3,6)`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw new RangeError(`the range ${part} ends before it starts`);
    for (let p = from; p <= to; p++) out.add(p);
  }
  return [...out].sort((a, b) => a - b);
}
