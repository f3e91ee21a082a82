import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  evolveAccessRequest,
  evolveEntitlement,
  evolveOrder,
  initialAccessRequestState,
  initialEntitlementState,
  initialOrderState,
  isEntitlementEvent,
  isOrderEvent,
  ACCESS_REQUEST_EVENT_TYPES,
  type AccessRequestEvent,
  type AccessRequestState,
  type CatalogEvent,
  type Entitlement,
  type EntitlementEvent,
  type OrderEvent,
  type OrderState,
} from '@el/domain';
import type { EventStore, RecordedEvent, Subscription } from '@el/event-store';
import { ApiException, HealthRegistry, Metrics } from '@el/platform';
import type { LedgerConfig } from '../ledger.config';
import { CatalogService } from './catalog.service';
import { InjectEventStore, LEDGER_CONFIG } from './event-store.provider';
import { toDomainEvent } from './event-streams';

type Pending = Extract<AccessRequestState, { status: 'pending' }>;

/**
 * The ledger's in-memory view of the global log: entitlements by customer,
 * orders awaiting fulfilment, pending access requests. Built by a catch-up
 * subscription from position 0 at boot (the service answers only once it has
 * caught up) and followed live. Queries that carry `minPosition` wait until
 * the view has reached it, so a client reads its own writes.
 */
@Injectable()
export class LedgerIndex implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('ledger-index');
  private readonly entitlements = new Map<string, Entitlement>();
  private readonly revisions = new Map<string, number>();
  private readonly byCustomer = new Map<string, Set<string>>();
  private readonly orders = new Map<string, OrderState>();
  private readonly unfinishedOrders = new Set<string>();
  private readonly requests = new Map<string, AccessRequestState>();
  private readonly waiters = new Set<{ position: number; wake: () => void }>();
  private subscription: Subscription | null = null;
  private positionValue = 0;

  constructor(
    @InjectEventStore() private readonly store: EventStore,
    @Inject(LEDGER_CONFIG) private readonly config: LedgerConfig,
    private readonly catalog: CatalogService,
    private readonly metrics: Metrics,
    private readonly health: HealthRegistry,
  ) {}

  async onModuleInit(): Promise<void> {
    const started = performance.now();
    const head = await this.store.headPosition();
    this.subscription = this.store.subscribeAll((batch) => this.apply(batch), { batchSize: 1000 });
    this.subscription.done.catch((err) => this.logger.error({ err }, 'ledger index stopped'));
    await this.waitFor(head, Number.MAX_SAFE_INTEGER);
    this.logger.log({ position: this.positionValue, entitlements: this.entitlements.size, ms: Math.round(performance.now() - started) }, 'ledger index caught up');
    this.metrics.gauge('ledger_index_position', 'Global position the ledger index has applied', [], (g) => g.set(this.positionValue));
    this.health.register('ledgerIndex', async () => {
      const lag = (await this.store.headPosition()) - this.positionValue;
      return { status: lag > this.config.INDEX_MAX_LAG_EVENTS ? 'degraded' : 'up', position: this.positionValue, lagEvents: lag };
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscription?.stop();
  }

  position(): number {
    return this.positionValue;
  }

  private apply(batch: readonly RecordedEvent[]): void {
    for (const r of batch) {
      const event = toDomainEvent<EntitlementEvent | OrderEvent | AccessRequestEvent | CatalogEvent>(r);
      if (isEntitlementEvent(event)) {
        const id = event.data.entitlementId;
        const next = evolveEntitlement(this.entitlements.get(id) ?? initialEntitlementState, event);
        if (next.status !== 'none') {
          this.entitlements.set(id, next);
          this.revisions.set(id, r.revision);
          let set = this.byCustomer.get(next.customerId);
          if (!set) this.byCustomer.set(next.customerId, (set = new Set()));
          set.add(id);
        }
      } else if (isOrderEvent(event)) {
        const id = event.data.orderId;
        const next = evolveOrder(this.orders.get(id) ?? initialOrderState, event);
        this.orders.set(id, next);
        if (next.status === 'received') this.unfinishedOrders.add(id);
        else this.unfinishedOrders.delete(id);
      } else if ((ACCESS_REQUEST_EVENT_TYPES as readonly string[]).includes(event.type)) {
        const e = event as AccessRequestEvent;
        this.requests.set(e.data.requestId, evolveAccessRequest(this.requests.get(e.data.requestId) ?? initialAccessRequestState, e));
      } else if (event.type === 'CatalogPublished') {
        this.catalog.observe(event as CatalogEvent);
      }
    }
    this.positionValue = batch[batch.length - 1]!.position;
    for (const w of this.waiters) if (this.positionValue >= w.position) w.wake();
  }

  /** Resolves true once the view has applied `position`, false after `timeoutMs`. */
  waitFor(position: number, timeoutMs: number): Promise<boolean> {
    if (this.positionValue >= position) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        position,
        wake: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(this.positionValue >= position);
        },
      };
      const timer = setTimeout(waiter.wake, Math.min(timeoutMs, 2 ** 31 - 1));
      this.waiters.add(waiter);
    });
  }

  /** Waits for `minPosition` within QUERY_WAIT_MS, else answers 503 with the current position. */
  async require(minPosition: number | undefined): Promise<void> {
    if (minPosition === undefined || minPosition <= this.positionValue) return;
    if (await this.waitFor(minPosition, this.config.QUERY_WAIT_MS)) return;
    throw new ApiException(503, 'READ_MODEL.BEHIND', `the ledger index is at position ${this.positionValue}, behind the requested ${minPosition}; retry shortly`, {
      position: this.positionValue,
      minPosition,
    });
  }

  customerEntitlements(customerId: string): Entitlement[] {
    return [...(this.byCustomer.get(customerId) ?? [])].map((id) => this.entitlements.get(id)!).filter(Boolean);
  }

  /** Stream revision of the entitlement as applied by the index. */
  revisionOf(entitlementId: string): number {
    return this.revisions.get(entitlementId) ?? -1;
  }

  allEntitlements(): IterableIterator<Entitlement> {
    return this.entitlements.values();
  }

  unfinishedOrderIds(): string[] {
    return [...this.unfinishedOrders];
  }

  pendingAccessRequests(customerId?: string): Pending[] {
    const out: Pending[] = [];
    for (const r of this.requests.values()) {
      if (r.status === 'pending' && (customerId === undefined || r.customerId === customerId)) out.push(r);
    }
    return out.sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
  }
}
