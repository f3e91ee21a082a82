import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { InjectEventStore, type EventStore } from '@el/event-store';
import { Clock, HealthRegistry, Metrics } from '@el/platform';
import { ReadModelProjector } from '../projector/projector';
import { ReadModelPosition } from '../queries/read-model-position';
import { READ_MODELS, READ_MODELS_OPTIONS, type ReadModelsOptions } from './read-models.module';
import type { ProjectorConfig } from './projector.config';

export const PROJECTOR_CONFIG = Symbol('PROJECTOR_CONFIG');

/**
 * Runs the read-model projector in this process: starts it once the service
 * is up, reports lag (positions and seconds) in /metrics and /health, wakes
 * queries waiting for `minPosition`, and stops it before the store closes.
 */
@Injectable()
export class ProjectorRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('projector');
  private readonly projector: ReadModelProjector;
  private lastPosition = 0;

  constructor(
    @Inject(READ_MODELS) ds: DataSource,
    @Inject(READ_MODELS_OPTIONS) private readonly readModels: ReadModelsOptions,
    @Inject(PROJECTOR_CONFIG) private readonly config: ProjectorConfig,
    @InjectEventStore() private readonly store: EventStore,
    private readonly position: ReadModelPosition,
    private readonly clock: Clock,
    metrics: Metrics,
    health: HealthRegistry,
  ) {
    const batches = metrics.histogram('projector_batch_duration_seconds', 'Time to apply one batch (rows and checkpoint in one transaction)', [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);
    const applied = metrics.counter('projector_events_total', 'Events the projector has seen, by whether they changed a row', ['outcome']);
    const pauseAt = config.PROJECTOR_TEST_PAUSE_AT_POSITION;
    this.projector = new ReadModelProjector(ds, store, {
      subscriptionId: readModels.subscriptionId,
      batchSize: config.PROJECTOR_BATCH_SIZE,
      clock,
      onBatch: (b) => {
        this.lastPosition = b.position;
        position.advanced(b.position);
        batches.observe(b.durationMs / 1000);
        applied.inc({ outcome: 'applied' }, b.applied);
        applied.inc({ outcome: 'ignored' }, b.events - b.applied);
      },
      onError: (err, attempt) => this.logger.error({ err, attempt }, 'projector batch failed; retrying from the checkpoint'),
      ...(pauseAt !== undefined ? { beforeCommit: testPause(pauseAt) } : {}),
    });
    metrics.gauge('projector_position', 'Global position the read models include', [], (g) => g.set(this.lastPosition));
    metrics.gauge('projector_lag_events', 'Events in the store not yet in the read models', [], (g) => this.lag().then((l) => g.set(l.events ?? Number.NaN)));
    metrics.gauge('projector_lag_seconds', 'Age of the oldest event not yet in the read models (0 when caught up)', [], (g) => this.lag().then((l) => g.set(l.seconds)));
    health.register('projector', async () => {
      const lag = await this.lag();
      return { status: lag.seconds > this.config.PROJECTOR_MAX_LAG_SECONDS ? 'degraded' : 'up', subscriptionId: readModels.subscriptionId, ...lag };
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.lastPosition = await this.projector.position();
    this.position.advanced(this.lastPosition);
    // Reads without minPosition wait for (or say they are behind) the head the log has now: see ReadYourWrites.require.
    this.position.catchingUp(this.lastPosition, await this.store.headPosition());
    this.logger.log({ subscriptionId: this.readModels.subscriptionId, from: this.lastPosition }, 'projector started');
    this.projector.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.projector.stop();
  }

  /** How far behind the read models are, in events (null when positions are not dense: EventStoreDB) and in seconds. */
  async lag(): Promise<{ position: number; head: number; events: number | null; seconds: number }> {
    const [position, head] = [await this.projector.position(), await this.store.headPosition()];
    this.lastPosition = Math.max(this.lastPosition, position);
    if (position >= head) return { position, head, events: 0, seconds: 0 };
    const [next] = await this.store.readAll({ after: position, maxCount: 1 });
    const seconds = next ? Math.max(0, (this.clock.nowMs() - Date.parse(next.recordedAt)) / 1000) : 0;
    return { position, head, events: this.store.densePositions ? head - position : null, seconds: Math.round(seconds * 1000) / 1000 };
  }
}

/** Holds the batch that reaches `position` open forever, after its rows are written: a test kills the process here. */
function testPause(position: number) {
  let paused = false;
  return async (batchPosition: number) => {
    if (paused || batchPosition < position) return;
    paused = true;
    process.stdout.write('projector paused in batch\n');
    await new Promise(() => undefined);
  };
}
