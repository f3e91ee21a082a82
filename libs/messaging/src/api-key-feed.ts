import { apiKeyMessageV1, type ApiKeyEventV1 } from '@el/contracts';
import { API_KEYS_STREAM, isApiKeyEvent, type ApiKeyEvent } from '@el/domain';
import type { RecordedEvent } from '@el/event-store';
import type { OutgoingMessage } from './integration-events.port';

/** The relay's messages for ledger.api-keys.v1 from stored key events. */
export function apiKeyMessages(batch: readonly RecordedEvent[]): OutgoingMessage[] {
  const out: OutgoingMessage[] = [];
  for (const r of batch) {
    if (r.stream !== API_KEYS_STREAM || !isApiKeyEvent(r)) continue;
    const e = { type: r.type, data: r.data, metadata: r.metadata } as unknown as ApiKeyEvent;
    const value: ApiKeyEventV1 =
      e.type === 'ApiKeyCreated'
        ? { type: 'created', ...e.data, createdBy: e.metadata.actor.id, position: r.position }
        : { type: 'revoked', keyId: e.data.keyId, revokedAt: e.data.revokedAt, revokedBy: e.metadata.actor.id, position: r.position };
    out.push(apiKeyMessageV1(r.id, value));
  }
  return out;
}

