import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { EVENT_STORE, runCheckpointed, storedEvents, type CheckpointedSubscription, type EventStore } from '@el/event-store';
import { AuditLog } from '../log/audit-log';
import { AuditIngest } from './audit-ingest';

/**
 * The audit feed in one process (embedded mode): the event store's log read
 * as stored, from the audit log's last position. The audit log itself is the
 * checkpoint: its last position commits with its leaves.
 */
@Injectable()
export class EventStoreAuditFeed implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('audit');
  private subscription: CheckpointedSubscription | null = null;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly log: AuditLog,
    private readonly ingest: AuditIngest,
  ) {}

  onApplicationBootstrap(): void {
    this.subscription = runCheckpointed(storedEvents(this.store), {
      subscriptionId: 'audit',
      checkpoints: { load: async () => this.log.lastPosition, save: async () => undefined },
      checkpointing: 'by-handler',
      batchSize: 1000,
      // On a fresh start the read models and the enforcement view (what makes the process ready)
      // catch up first; the audit log follows, and /health shows how far behind it is meanwhile.
      priority: 'background',
      retry: { initialMs: 100, maxMs: 1_000 }, // an audit store that comes back is written again within a second
      handle: (batch) => this.ingest.ingest(batch),
      onError: (err, attempt) => {
        this.ingest.failed(err);
        this.logger.error({ err, attempt }, 'audit feed batch failed; retrying from the audit log\'s last position');
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscription?.stop();
  }
}
