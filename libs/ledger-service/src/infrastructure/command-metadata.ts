import type { CommandMetadata } from '@el/domain';
import { systemPrincipal, type Clock, type RequestContext } from '@el/platform';

/** The envelope of every command a request issues: who, why, when. */
export function commandMetadata(ctx: RequestContext, clock: Clock, overrides: Partial<CommandMetadata> = {}): CommandMetadata {
  return {
    now: clock.now().toISOString(),
    correlationId: ctx.correlationId,
    causationId: ctx.requestId,
    actor: ctx.actor,
    source: ctx.source,
    ...(ctx.idempotencyKey !== undefined ? { idempotencyKey: ctx.idempotencyKey } : {}),
    ...(ctx.requestHash !== undefined ? { requestHash: ctx.requestHash } : {}),
    ...overrides,
  };
}

/** Commands the ledger issues on its own (expiry sweeps, recovery). */
export function systemContext(reason: string, correlationId: string): RequestContext {
  return { requestId: correlationId, correlationId, actor: { type: 'system', id: reason }, principal: systemPrincipal(reason), source: 'system' };
}
