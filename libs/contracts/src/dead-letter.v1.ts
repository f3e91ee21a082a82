/**
 * A message that could not be applied, on `<topic>.dlq` (key = the original
 * key). It carries the reason and everything needed to replay or inspect the
 * original: its bytes (base64), topic, partition, offset, key, headers.
 */
export interface DeadLetterV1 {
  readonly kind: 'dead-letter.v1';
  readonly deadLetteredAt: string;
  readonly consumerGroup: string;
  readonly reason: {
    /** Stable code, e.g. MESSAGE.UNPARSEABLE, MESSAGE.INVALID, ORDER.PAYLOAD_MISMATCH. */
    readonly code: string;
    readonly message: string;
    readonly errors?: readonly { readonly path: string; readonly message: string }[];
  };
  readonly original: {
    readonly topic: string;
    readonly partition: number;
    readonly offset: string;
    readonly key: string | null;
    readonly timestamp: string;
    readonly headers: Readonly<Record<string, string>>;
    /** The original value, byte for byte. */
    readonly valueBase64: string | null;
  };
}

export function deadLetterV1(args: {
  consumerGroup: string;
  reason: DeadLetterV1['reason'];
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  timestamp: string;
  headers: Readonly<Record<string, string>>;
  value: Uint8Array | null;
  now: Date;
}): DeadLetterV1 {
  return {
    kind: 'dead-letter.v1',
    deadLetteredAt: args.now.toISOString(),
    consumerGroup: args.consumerGroup,
    reason: args.reason,
    original: {
      topic: args.topic,
      partition: args.partition,
      offset: args.offset,
      key: args.key,
      timestamp: args.timestamp,
      headers: args.headers,
      valueBase64: args.value ? Buffer.from(args.value).toString('base64') : null,
    },
  };
}

export function dlqTopicOf(topic: string): string {
  return `${topic}.dlq`;
}
