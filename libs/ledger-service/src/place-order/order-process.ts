import { Injectable, Logger } from '@nestjs/common';
import {
  commandsForOrderLine,
  decideEntitlement,
  decideOrder,
  DomainError,
  evolveEntitlement,
  evolveOrder,
  foldOrder,
  orderStream,
  type CommandMetadata,
  type EntitlementState,
  type ErpOrder,
  type OrderEvent,
  type OrderLine,
  type OrderLineResult,
  type OrderRejection,
  type OrderState,
  type PublishedCatalog,
} from '@el/domain';
import { isConcurrencyError } from '@el/event-store';
import { deterministicId, hashOf } from '@el/platform';
import { EntitlementChanges } from '../entitlements/entitlement-changes';
import { EntitlementRepository, type LoadedEntitlement } from '../entitlements/entitlement.repository';
import { CatalogService } from '../infrastructure/catalog.service';
import { eventIdFor, EventStreams } from '../infrastructure/event-streams';
import { LedgerError } from '../ledger.errors';

/** An order as submitted: `effectiveAt` defaults to the time it is received. */
export interface OrderSubmission {
  readonly orderId: string;
  readonly customerId: string;
  readonly effectiveAt?: string;
  readonly lines: readonly OrderLine[];
}

export interface OrderOutcome {
  readonly orderId: string;
  readonly customerId: string;
  readonly status: 'fulfilled' | 'rejected';
  /** Some lines failed (the entitlement changed between validation and fulfilment). */
  readonly partial: boolean;
  readonly lines: readonly OrderLineResult[];
  readonly rejection?: OrderRejection;
  readonly effectiveAt: string;
  readonly catalogVersion: number;
  /** Revision of the order stream. */
  readonly revision: number;
  /** Global position of the order's last event: every entitlement change of the order is at or before it. */
  readonly position: number;
  /** True when this order had been handled before: nothing new happened. */
  readonly replayed: boolean;
}

/** The entitlement a `new` line creates: derived from order and line, so a retry targets the same one. */
export function entitlementIdForLine(orderId: string, lineId: string): string {
  return deterministicId('entitlement', 'order', orderId, lineId);
}

function orderPayloadHash(o: OrderSubmission): string {
  return hashOf({
    orderId: o.orderId,
    customerId: o.customerId,
    effectiveAt: o.effectiveAt ? new Date(o.effectiveAt).toISOString() : null,
    lines: o.lines.map((l) => ({ lineId: l.lineId, sku: l.sku, quantity: l.quantity, action: l.action, entitlementId: l.entitlementId ?? null })),
  });
}

const MAX_ATTEMPTS = 5;

/**
 * Turns an ERP order into entitlement changes, exactly once:
 *  1. an order already received with the same payload answers with its
 *     recorded outcome; with another payload it is refused;
 *  2. lines are checked against the catalog and, in a dry run, against the
 *     entitlements they touch; any failure rejects the whole order (recorded);
 *  3. `OrderReceived` is appended, then each line's changes with ids derived
 *     from order and line, then `OrderFulfilled`.
 * A crash between steps leaves `OrderReceived` without an outcome; the next
 * delivery of the order (or recovery at boot) resumes and the derived ids
 * make already-applied lines no-ops.
 */
@Injectable()
export class OrderProcess {
  private readonly logger = new Logger('orders');

  constructor(
    private readonly streams: EventStreams,
    private readonly entitlements: EntitlementRepository,
    private readonly changes: EntitlementChanges,
    private readonly catalog: CatalogService,
  ) {}

  async place(submission: OrderSubmission, meta: CommandMetadata): Promise<OrderOutcome> {
    const payloadHash = orderPayloadHash(submission);
    const stream = orderStream(submission.orderId);
    for (let attempt = 1; ; attempt++) {
      const loaded = await this.streams.load<OrderEvent>(stream);
      const state = foldOrder(loaded.events);
      if (state.status !== 'none') {
        // Throws ORDER.PAYLOAD_MISMATCH when the payload differs.
        decideOrder({ type: 'ReceiveOrder', data: { order: state.order, payloadHash, catalog: this.catalog.version(state.catalogVersion) }, metadata: meta }, state);
        if (state.status === 'received') return this.fulfil(state, loaded, meta);
        return outcome(state, loaded.revision, loaded.position, true);
      }

      const order: ErpOrder = {
        orderId: submission.orderId,
        customerId: submission.customerId,
        effectiveAt: submission.effectiveAt ? new Date(submission.effectiveAt).toISOString() : meta.now,
        lines: submission.lines.map((l) => ({ lineId: l.lineId, sku: l.sku, quantity: l.quantity, action: l.action, ...(l.entitlementId ? { entitlementId: l.entitlementId } : {}) })),
      };
      const catalog = this.catalog.current();
      let events = decideOrder({ type: 'ReceiveOrder', data: { order, payloadHash, catalog }, metadata: meta }, state);
      let read = new Map<string, LoadedEntitlement>();
      if (events.length === 1) {
        const dry = await this.dryRun(order, catalog, meta);
        read = dry.read;
        const rejection = dry.rejection;
        if (rejection) {
          const received = events.reduce(evolveOrder, state);
          events = [...events, ...decideOrder({ type: 'RejectOrder', data: rejection, metadata: meta }, received)];
        }
      }
      let appended;
      try {
        appended = await this.streams.append(stream, events, 'no_stream', `order:${order.orderId}:received`);
      } catch (err) {
        if (!isConcurrencyError(err)) throw err;
        // Received concurrently by another request or consumer: look again.
        if (attempt < MAX_ATTEMPTS) continue;
        throw new LedgerError('CONCURRENCY.CONFLICT', `order ${order.orderId} is being received by several callers at once; retry`, { attempts: attempt });
      }
      const next = events.reduce(evolveOrder, state);
      if (next.status === 'rejected') {
        this.logger.log({ orderId: order.orderId, code: next.rejection.code, lineId: next.rejection.lineId }, 'order rejected');
        return outcome(next, appended.revision, appended.position, appended.duplicate);
      }
      if (next.status !== 'received') throw new Error(`order ${order.orderId} is ${next.status} right after being received`);
      // The stream is what was just appended — unless the append was a retry of one already stored, which may
      // have been followed by more: then it is read.
      const at = appended.duplicate ? await this.streams.load<OrderEvent>(stream) : { stream, revision: appended.revision };
      return this.fulfil(next, at, meta, read);
    }
  }

  /** Finishes an order that was received but never completed (crash, restart). */
  async resume(orderId: string, meta: CommandMetadata): Promise<OrderOutcome | null> {
    const loaded = await this.streams.load<OrderEvent>(orderStream(orderId));
    const state = foldOrder(loaded.events);
    if (state.status !== 'received') return null;
    this.logger.warn({ orderId }, 'resuming an order that was received but not completed');
    return this.fulfil(state, loaded, meta);
  }

  /**
   * Decides every line on the entitlements it touches, writing nothing: the
   * order's rejection when a line fails, else null. Also returns each
   * entitlement as it was read, so fulfilment need not read it again.
   */
  private async dryRun(order: ErpOrder, catalog: PublishedCatalog, meta: CommandMetadata): Promise<{ rejection: OrderRejection | null; read: Map<string, LoadedEntitlement> }> {
    const read = new Map<string, LoadedEntitlement>();
    const states = new Map<string, EntitlementState>();
    for (const line of order.lines) {
      const { entitlementId, commands } = commandsForOrderLine(order, line, catalog, entitlementIdForLine(order.orderId, line.lineId), meta);
      let state = states.get(entitlementId);
      if (!state) {
        const loaded = await this.entitlements.load(entitlementId);
        read.set(entitlementId, loaded);
        state = loaded.state;
      }
      try {
        for (const c of commands) state = decideEntitlement(c, state).reduce(evolveEntitlement, state);
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        return { rejection: { code: err.code, message: `line ${line.lineId}: ${err.message}`, lineId: line.lineId, details: { entitlementId, ...err.details } }, read };
      }
      states.set(entitlementId, state);
    }
    return { rejection: null, read };
  }

  /**
   * Applies the lines of a received order, then records the outcome at the
   * order stream's revision `at`. `read`: entitlements just read (by the dry
   * run), each used for the first command on it instead of another read.
   */
  private async fulfil(
    state: Extract<OrderState, { status: 'received' }>,
    at: { readonly stream: string; readonly revision: number },
    meta: CommandMetadata,
    read: ReadonlyMap<string, LoadedEntitlement> = new Map(),
  ): Promise<OrderOutcome> {
    const { order } = state;
    const unused = new Map(read);
    const catalog = this.catalog.version(state.catalogVersion);
    // Entitlement events name the order's receipt as their cause.
    const lineMeta: CommandMetadata = { ...meta, causationId: eventIdFor(`order:${order.orderId}:received`, at.stream, 0) };
    const results: OrderLineResult[] = [];
    for (const line of order.lines) {
      const { entitlementId, commands } = commandsForOrderLine(order, line, catalog, entitlementIdForLine(order.orderId, line.lineId), lineMeta);
      const written: string[] = [];
      let failure: DomainError | null = null;
      for (const [k, command] of commands.entries()) {
        try {
          const preloaded = unused.get(entitlementId);
          unused.delete(entitlementId);
          const r = await this.changes.apply(entitlementId, command, { commandId: `order:${order.orderId}:line:${line.lineId}:${k}`, ...(preloaded ? { loaded: preloaded } : {}) });
          written.push(...r.events);
        } catch (err) {
          if (!(err instanceof DomainError)) throw err;
          failure = err;
          break;
        }
      }
      results.push({
        lineId: line.lineId,
        action: line.action,
        sku: line.sku,
        entitlementId,
        status: failure ? 'failed' : 'fulfilled',
        events: written,
        ...(failure ? { code: failure.code, message: failure.message } : {}),
      });
    }
    const events = decideOrder({ type: 'CompleteOrder', data: { lines: results }, metadata: meta }, state);
    try {
      const r = await this.streams.append(at.stream, events, at.revision, `order:${order.orderId}:fulfilled`);
      const done = events.reduce(evolveOrder, state as OrderState);
      if (done.status === 'fulfilled' && done.partial) this.logger.warn({ orderId: order.orderId, lines: results.filter((l) => l.status === 'failed') }, 'order partly fulfilled');
      return outcome(done, r.revision, r.position, r.duplicate);
    } catch (err) {
      if (!isConcurrencyError(err)) throw err;
      // Completed concurrently by another delivery of the same order: answer with that outcome.
      const now = await this.streams.load<OrderEvent>(at.stream);
      return outcome(foldOrder(now.events), now.revision, now.position, true);
    }
  }
}

function outcome(state: OrderState, revision: number, position: number, replayed: boolean): OrderOutcome {
  if (state.status === 'none' || state.status === 'received') throw new Error(`order has no outcome yet (${state.status})`);
  return {
    orderId: state.order.orderId,
    customerId: state.order.customerId,
    status: state.status,
    partial: state.status === 'fulfilled' ? state.partial : false,
    lines: state.status === 'fulfilled' ? state.lines : [],
    ...(state.status === 'rejected' ? { rejection: state.rejection } : {}),
    effectiveAt: state.order.effectiveAt,
    catalogVersion: state.catalogVersion,
    revision,
    position,
    replayed,
  };
}
