import type { TopicMessageV1 } from './entitlements-topic.v1';

/**
 * ledger.api-keys.v1: one message per API key event, key = keyId. A created
 * key carries its role, scope and the SHA-256 of its secret (never the secret);
 * a revoked key carries only its id. With compaction only the newest message of
 * a key survives: a revoked key is then unknown, which refuses it just the same.
 */
export type ApiKeyEventV1 =
  | {
      readonly type: 'created';
      readonly keyId: string;
      readonly name: string;
      readonly role: string;
      readonly customers: readonly string[] | null;
      readonly secretSha256: string;
      readonly createdAt: string;
      readonly createdBy: string;
      readonly position: number;
    }
  | { readonly type: 'revoked'; readonly keyId: string; readonly revokedAt: string; readonly revokedBy: string; readonly position: number };

export function apiKeyMessageV1(id: string, value: ApiKeyEventV1): TopicMessageV1<ApiKeyEventV1> {
  return { key: value.keyId, id, value, headers: { 'content-type': 'application/json', ce_id: id, ce_type: `io.ledger.api-key.${value.type}.v1` } };
}
