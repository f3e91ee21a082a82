import { Injectable } from '@nestjs/common';
import { isConcurrencyError } from '@el/event-store';
import { sha256Hex, type RequestContext } from '@el/platform';
import { LedgerError } from '../ledger.errors';
import { EventStreams } from './event-streams';

/** Recorded the first time a client's Idempotency-Key is used for a resource. */
export const IDEMPOTENCY_KEY_CLAIMED = 'IdempotencyKeyClaimed';

/**
 * Binds an Idempotency-Key to the first request that used it, in a stream of
 * its own (so it works across processes and on every store adapter). A retry
 * of that request passes; the key with any other request is refused.
 */
@Injectable()
export class IdempotencyKeys {
  constructor(private readonly streams: EventStreams) {}

  async claim(ctx: RequestContext, resource: string, now: string): Promise<void> {
    if (!ctx.idempotencyKey || !ctx.requestHash) return;
    const stream = `idempotency-${sha256Hex(ctx.idempotencyKey).slice(0, 40)}`;
    const data = { key: ctx.idempotencyKey, requestHash: ctx.requestHash, resource };
    const claimedEvent = {
      type: IDEMPOTENCY_KEY_CLAIMED,
      data,
      metadata: { correlationId: ctx.correlationId, causationId: ctx.requestId, actor: ctx.actor, source: ctx.source, recordedAt: now, effectiveAt: now, schemaVersion: 1 },
    };
    try {
      await this.streams.append(stream, [claimedEvent], 'no_stream', `idempotency-claim:${ctx.idempotencyKey}:${ctx.requestHash}`);
      return;
    } catch (err) {
      if (!isConcurrencyError(err) && (err as { code?: string }).code !== 'EVENT_STORE.EVENT_ID_CONFLICT') throw err;
    }
    const [first] = (await this.streams.load(stream)).events;
    const claimed = first?.data as { requestHash?: string; resource?: string } | undefined;
    if (claimed?.requestHash !== ctx.requestHash) {
      throw new LedgerError('IDEMPOTENCY.KEY_REUSED', `this Idempotency-Key was already used for a different request (${claimed?.resource ?? 'unknown'})`, {
        resource: claimed?.resource,
      });
    }
  }
}
