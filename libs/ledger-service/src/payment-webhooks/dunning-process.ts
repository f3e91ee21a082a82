import { Inject, Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { decideDunning, DomainError, dunningStream, foldDunning, nextDunningStep, type DunningCommand, type DunningEvent, type DunningState } from '@el/domain';
import { InjectEventStore, isConcurrencyError, type EventStore, type RecordedEvent } from '@el/event-store';
import { Clock, jitter, KeyedSerializer, type RequestContext } from '@el/platform';
import { MAX_PAGE_SIZE, ReadModelQueries, ReadYourWrites, type EntitlementRow } from '@el/read-models';
import type { EntitlementWriteResult } from '../entitlements/entitlement-changes';
import { EntitlementRepository, type LoadedEntitlement } from '../entitlements/entitlement.repository';
import { commandMetadata, systemContext } from '../infrastructure/command-metadata';
import { EventStreams } from '../infrastructure/event-streams';
import { LEDGER_CONFIG, type LedgerConfig } from '../ledger.config';
import { LedgerError } from '../ledger.errors';
import { ReinstateEntitlementCommand } from '../reinstate-entitlement/reinstate-entitlement.command';
import { SuspendEntitlementCommand } from '../suspend-entitlement/suspend-entitlement.command';

/** The actor recorded on everything dunning does. */
export const PAYMENT_GATEWAY = 'payment-gateway';
/** The reason a dunning suspension carries (what checks and the API show as the status reason). */
export const PAYMENT_FAILED = 'payment_failed';
/** The reason of the reinstatement after the payment. */
export const PAYMENT_RECEIVED = 'payment_received';

export interface DunningOutcome {
  readonly customerId: string;
  /** This gateway event had been recorded before: nothing new came of the delivery itself. */
  readonly replayed: boolean;
  /** Event types written (the dunning stream's and the entitlements'), in order; empty when nothing changed. */
  readonly events: readonly string[];
  /** Global position of the last event written, or of the recorded fact for a replay, or of the customer's dunning when nothing was to record (0: none yet). */
  readonly position: number;
}

const MAX_ATTEMPTS = 10;
/** A step can make the next one due (a payment recorded while suspending): a few rounds, never a loop. */
const MAX_STEPS = 4;

/** The commands a case issues to an entitlement carry keys derived from the customer and the case, so each is applied once. */
const suspendKey = (customerId: string, caseId: string) => `dunning:${customerId}:${caseId}:suspend`;
const reinstateKey = (customerId: string, caseId: string) => `dunning:${customerId}:${caseId}:reinstate`;
/** The command id `EntitlementChanges` derives from a key (see `writeOptions`). */
const commandIdOf = (idempotencyKey: string) => `idempotency:${idempotencyKey}`;

/**
 * Carries out dunning for one customer (`libs/domain/src/dunning`): records
 * what the payment gateway reports, once per gateway event id, and then does
 * whatever has become due — suspends the customer's entitlements once the
 * grace has run out, reinstates exactly those after the payment. Entitlements
 * change through the ordinary Suspend and Reinstate commands on the command
 * bus, as the system actor `payment-gateway`, with keys derived from the case,
 * so a step interrupted by a crash and done again (by the next delivery or by
 * the sweeper) changes nothing twice. Work for one customer is queued in this
 * process; expected revisions guard against other processes.
 */
@Injectable()
export class DunningProcess {
  private readonly logger = new Logger('dunning');
  private readonly queue = new KeyedSerializer();

  constructor(
    @Inject(LEDGER_CONFIG) private readonly config: LedgerConfig,
    @InjectEventStore() private readonly store: EventStore,
    private readonly streams: EventStreams,
    private readonly entitlements: EntitlementRepository,
    private readonly readModels: ReadModelQueries,
    private readonly ryw: ReadYourWrites,
    private readonly commands: CommandBus,
    private readonly clock: Clock,
  ) {}

  /** An invoice's payment failed: the grace starts (or, with a grace of 0 or a late delivery, the suspension happens now). */
  paymentFailed(f: { customerId: string; invoiceId: string; gatewayEventId: string; failedAt: string }): Promise<DunningOutcome> {
    return this.record(f.customerId, f.gatewayEventId, (metadata) => ({
      type: 'RecordPaymentFailure',
      data: { ...f, graceHours: this.config.PAYMENT_DUNNING_GRACE_HOURS },
      metadata,
    }));
  }

  /** An invoice was paid: a pending suspension is off once nothing is unpaid, and what dunning suspended is reinstated. */
  invoicePaid(p: { customerId: string; invoiceId: string; gatewayEventId: string; paidAt: string }): Promise<DunningOutcome> {
    return this.record(p.customerId, p.gatewayEventId, (metadata) => ({ type: 'RecordInvoicePaid', data: p, metadata }));
  }

  /** Does what is due for this customer now (the sweeper's entry). */
  advance(customerId: string): Promise<DunningOutcome> {
    return this.queue.run(customerId, async () => ({ customerId, replayed: false, ...(await this.advanceQueued(customerId, `dunning:${customerId}`)) }));
  }

  private record(customerId: string, gatewayEventId: string, command: (metadata: DunningCommand['metadata']) => DunningCommand): Promise<DunningOutcome> {
    const correlationId = `${PAYMENT_GATEWAY}:${gatewayEventId}`;
    const commandId = correlationId;
    return this.queue.run(customerId, async () => {
      const stream = dunningStream(customerId);
      let replayed = false;
      let position = 0;
      const written: string[] = [];
      for (let attempt = 1; ; attempt++) {
        const loaded = await this.streams.load<DunningEvent>(stream);
        const already = this.streams.writtenBy(loaded, commandId);
        if (already.length > 0) {
          replayed = true;
          position = already[already.length - 1]!.position;
          break;
        }
        const events = decideDunning(command(commandMetadata(this.context(correlationId), this.clock)), foldDunning(loaded.events));
        if (events.length === 0) {
          position = loaded.position;
          break;
        }
        try {
          const r = await this.streams.append(stream, events, EventStreams.expected(loaded), commandId);
          replayed = r.duplicate;
          position = r.position;
          if (!r.duplicate) written.push(...events.map((e) => e.type));
          break;
        } catch (err) {
          if (!isConcurrencyError(err)) throw err;
          if (attempt >= MAX_ATTEMPTS) throw new LedgerError('CONCURRENCY.CONFLICT', `dunning of customer ${customerId} is changing too fast; retry`, { attempts: attempt });
          await jitter(2 * attempt);
        }
      }
      // Also after a replay: a delivery whose work a crash interrupted is finished by the gateway's retry.
      const steps = await this.advanceQueued(customerId, correlationId);
      return { customerId, replayed, events: [...written, ...steps.events], position: Math.max(position, steps.position) };
    });
  }

  private async advanceQueued(customerId: string, correlationId: string): Promise<{ events: string[]; position: number }> {
    const stream = dunningStream(customerId);
    const written: string[] = [];
    let position = 0;
    for (let round = 0; round < MAX_STEPS; round++) {
      const loaded = await this.streams.load<DunningEvent>(stream);
      const state = foldDunning(loaded.events);
      const step = nextDunningStep(state, this.clock.now().toISOString());
      if (step === null) break;
      const metadata = commandMetadata(this.context(correlationId), this.clock);
      let command: DunningCommand;
      if (step.kind === 'suspend') {
        const r = await this.suspendAll(customerId, step.caseId, correlationId);
        written.push(...r.events);
        position = Math.max(position, r.position);
        command = { type: 'RecordDunningSuspension', data: { caseId: step.caseId, entitlementIds: r.entitlementIds }, metadata };
        if (r.entitlementIds.length > 0) this.logger.warn({ customerId, caseId: step.caseId, entitlements: r.entitlementIds.length }, 'entitlements suspended: payment failed and the grace has run out');
      } else {
        const r = await this.reinstateAll(customerId, step.entitlements, correlationId);
        written.push(...r.events);
        position = Math.max(position, r.position);
        command = { type: 'RecordDunningReinstatement', data: { entitlementIds: r.released, reinstated: r.reinstated }, metadata };
        this.logger.log({ customerId, reinstated: r.reinstated.length, released: r.released.length }, 'payment received: dunning suspensions lifted');
      }
      const events = decideDunning(command, state);
      if (events.length === 0) break;
      try {
        const r = await this.streams.append(stream, events, EventStreams.expected(loaded), `dunning:${step.kind}:${loaded.revision}`);
        if (!r.duplicate) written.push(...events.map((e) => e.type));
        position = Math.max(position, r.position);
      } catch (err) {
        // Another process recorded something meanwhile: look again (the entitlement commands replay).
        if (!isConcurrencyError(err)) throw err;
      }
    }
    return { events: written, position };
  }

  /**
   * Suspends the customer's live entitlements under the case's key. Those
   * already suspended under it (a pass a crash interrupted) replay and count;
   * those suspended for another reason, expired or revoked are left alone.
   */
  private async suspendAll(customerId: string, caseId: string, correlationId: string): Promise<{ entitlementIds: string[]; events: string[]; position: number }> {
    // Every entitlement granted before this moment is in the read models.
    await this.ryw.require(await this.store.headPosition());
    const ctx = { ...this.context(correlationId), idempotencyKey: suspendKey(customerId, caseId) };
    const out = { entitlementIds: [] as string[], events: [] as string[], position: 0 };
    for (const row of await this.liveEntitlements(customerId)) {
      try {
        const r: EntitlementWriteResult = await this.commands.execute(new SuspendEntitlementCommand(row.entitlementId, PAYMENT_FAILED, ctx));
        out.entitlementIds.push(row.entitlementId);
        if (!r.replayed) out.events.push(...r.events);
        out.position = Math.max(out.position, r.position);
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
      }
    }
    return out;
  }

  /** The entitlement's newest EntitlementSuspended event: in the events loaded, or (loaded from a snapshot after it) in the whole stream. */
  private async lastSuspension(loaded: LoadedEntitlement): Promise<RecordedEvent | undefined> {
    const isSuspension = (e: RecordedEvent) => e.type === 'EntitlementSuspended';
    const recent = [...loaded.stream.recorded].reverse().find(isSuspension);
    if (recent || loaded.stream.from === 0) return recent;
    return [...(await this.streams.load(loaded.stream.stream)).recorded].reverse().find(isSuspension);
  }

  /**
   * Reinstates each entitlement only while the suspension in force is the
   * one this case made (`If-Match` on the revision that was checked): one an
   * operator lifted, or lifted and imposed again for another reason, stays
   * as the operator left it. Either way dunning lets go of it.
   */
  private async reinstateAll(customerId: string, suspended: DunningState['suspended'], correlationId: string): Promise<{ released: string[]; reinstated: string[]; events: string[]; position: number }> {
    const out = { released: [] as string[], reinstated: [] as string[], events: [] as string[], position: 0 };
    for (const [entitlementId, caseId] of Object.entries(suspended)) {
      for (let attempt = 1; ; attempt++) {
        const loaded = await this.entitlements.load(entitlementId);
        const reinstatedBefore = await this.entitlements.writtenBy(loaded, commandIdOf(reinstateKey(customerId, caseId)));
        if (reinstatedBefore.length > 0) {
          out.reinstated.push(entitlementId);
          break;
        }
        const ours = (await this.entitlements.writtenBy(loaded, commandIdOf(suspendKey(customerId, caseId))))[0];
        const lastSuspension = await this.lastSuspension(loaded);
        if (loaded.state.status !== 'suspended' || ours === undefined || lastSuspension?.id !== ours.id) break;
        try {
          const ctx: RequestContext = { ...this.context(correlationId), idempotencyKey: reinstateKey(customerId, caseId), ifMatch: loaded.revision };
          const r: EntitlementWriteResult = await this.commands.execute(new ReinstateEntitlementCommand(entitlementId, PAYMENT_RECEIVED, ctx));
          out.reinstated.push(entitlementId);
          out.events.push(...r.events);
          out.position = Math.max(out.position, r.position);
          break;
        } catch (err) {
          // Changed between the check and the reinstatement: check again.
          if (err instanceof LedgerError && err.code === 'CONCURRENCY.STALE_REVISION' && attempt < MAX_ATTEMPTS) continue;
          if (err instanceof DomainError) break;
          throw err;
        }
      }
      out.released.push(entitlementId);
    }
    return out;
  }

  private async liveEntitlements(customerId: string): Promise<EntitlementRow[]> {
    const rows: EntitlementRow[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.readModels.listEntitlements({ customerId, now: this.clock.now() }, { limit: MAX_PAGE_SIZE, ...(cursor ? { cursor } : {}) });
      rows.push(...page.items.filter((r) => r.status === 'active' || r.status === 'suspended'));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return rows;
  }

  private context(correlationId: string): RequestContext {
    return systemContext(PAYMENT_GATEWAY, correlationId);
  }
}
