import { Global, Inject, Injectable, Logger, Module, Optional, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { EVENT_STORE, type EventStore } from '@el/event-store';
import { dialectOf, quote } from '../projector/sql';
import { CodedError, HealthRegistry, Metrics, validationFailed, withTimeout, DEPENDENCY_PROBE_MS } from '@el/platform';
import { describeReadDb, openReadModels, type ReadDbConfig } from '../data-source';
import { ReadModelPosition } from '../queries/read-model-position';
import { InvalidCursorError, ReadModelQueries, type CustomerEntitlementStates } from '../queries/read-model-queries';

export const READ_MODELS = Symbol('READ_MODELS');
export const READ_MODELS_OPTIONS = Symbol('READ_MODELS_OPTIONS');
export interface ReadModelsOptions {
  readonly db: ReadDbConfig;
  readonly subscriptionId: string;
  readonly queryWaitMs: number;
}

/** Read-your-writes for queries: wait until the read models include `minPosition`, else 503 with the position reached. */
@Injectable()
export class ReadYourWrites {
  constructor(
    private readonly position: ReadModelPosition,
    private readonly queries: ReadModelQueries,
    @Inject(READ_MODELS_OPTIONS) private readonly options: ReadModelsOptions,
  ) {}

  /**
   * What a customer owns: every entitlement's state, read in one statement
   * with the position it is at — at least `minPosition` when given (waited
   * for as in `require`).
   */
  async customerEntitlementStates(customerId: string, minPosition: number | undefined): Promise<CustomerEntitlementStates> {
    await this.require(minPosition);
    return this.queries.customerEntitlementStates(customerId, this.options.subscriptionId);
  }

  /**
   * The read models' position once they include `minPosition`. Without one, right after a start,
   * while an in-process projector catches up with the head the log had then, it is that head:
   * a read would otherwise answer from a part of the history as if it were all of it.
   */
  async require(minPosition: number | undefined): Promise<number> {
    if (minPosition === undefined) {
      const catching = this.position.catchingUpTo();
      if (!catching) return this.position.current();
      if (await this.position.waitFor(catching.head, this.options.queryWaitMs)) return this.position.current();
      const now = this.position.catchingUpTo() ?? catching;
      throw new CodedError(
        'READ_MODEL.BEHIND',
        `the read models are catching up after a start: at position ${now.position} of ${now.head}${now.etaSeconds !== null ? `, about ${now.etaSeconds} s to go` : ''}; retry shortly`,
        { position: now.position, head: now.head, etaSeconds: now.etaSeconds },
      );
    }
    if (await this.position.waitFor(minPosition, this.options.queryWaitMs)) return this.position.current();
    const reached = await this.position.current();
    throw new CodedError('READ_MODEL.BEHIND', `the read models are at position ${reached}, behind the requested ${minPosition}; retry shortly`, {
      position: reached,
      minPosition,
    });
  }

  /** Runs a query, turning a bad cursor into a 400 naming the parameter. */
  async page<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (err) {
      if (err instanceof InvalidCursorError) {
        throw validationFailed([{ path: 'cursor', message: 'cursor is not one this API returned', constraint: 'isCursor' }]);
      }
      throw err;
    }
  }
}

/**
 * Versions before 0.2 kept the Kafka relay's checkpoint and the in-process
 * bus's consumer groups in this database's rm_checkpoints, beside the
 * projector's own. They belong to the event store (EventStore.checkpoints):
 * at boot, each one the store does not know yet is handed over, then removed
 * here, so an upgrade neither republishes the log nor skips a message.
 */
@Injectable()
export class CheckpointHandover implements OnModuleInit {
  private readonly logger = new Logger('read-models');

  constructor(
    @Inject(READ_MODELS) private readonly ds: DataSource,
    @Inject(READ_MODELS_OPTIONS) private readonly options: ReadModelsOptions,
    @Optional() @Inject(EVENT_STORE) private readonly store?: EventStore,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.store) return;
    const own = this.options.subscriptionId;
    const param = dialectOf(this.ds) === 'postgres' ? '$1' : '?';
    const rows = (await this.ds.query(`SELECT subscription_id, position FROM ${quote('rm_checkpoints')} WHERE subscription_id <> ${param}`, [own])) as { subscription_id: string; position: string | number }[];
    for (const row of rows) {
      const position = Number(row.position);
      if ((await this.store.checkpoints.load(row.subscription_id)) === 0) await this.store.checkpoints.save(row.subscription_id, position);
      await this.ds.query(`DELETE FROM ${quote('rm_checkpoints')} WHERE subscription_id = ${param}`, [row.subscription_id]);
      this.logger.log({ subscriptionId: row.subscription_id, position }, 'checkpoint handed over to the event store');
    }
  }
}

@Injectable()
class ReadModelsLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(READ_MODELS) private readonly ds: DataSource,
    private readonly position: ReadModelPosition,
  ) {}
  async onApplicationShutdown(): Promise<void> {
    this.position.close();
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}

/** The read-model database (migrated at boot), its queries and the read-your-writes wait. */
@Global()
@Module({})
export class ReadModelsModule {
  static forRoot(options: ReadModelsOptions): DynamicModule {
    return {
      module: ReadModelsModule,
      providers: [
        { provide: READ_MODELS_OPTIONS, useValue: options },
        {
          provide: READ_MODELS,
          inject: [HealthRegistry, Metrics],
          useFactory: async (health: HealthRegistry) => {
            const ds = await openReadModels(options.db);
            health.register('readModels', async () => {
              try {
                await withTimeout(ds.query('SELECT 1'), DEPENDENCY_PROBE_MS);
                return { status: 'up', db: describeReadDb(options.db) };
              } catch (err) {
                return { status: 'down', reason: `the read database does not answer: ${(err as Error).message}`, db: describeReadDb(options.db) };
              }
            });
            return ds;
          },
        },
        { provide: ReadModelQueries, inject: [READ_MODELS], useFactory: (ds: DataSource) => new ReadModelQueries(ds) },
        { provide: ReadModelPosition, inject: [READ_MODELS], useFactory: (ds: DataSource) => new ReadModelPosition(ds, options.subscriptionId) },
        ReadYourWrites,
        ReadModelsLifecycle,
        CheckpointHandover,
      ],
      exports: [READ_MODELS, READ_MODELS_OPTIONS, ReadModelQueries, ReadModelPosition, ReadYourWrites],
    };
  }
}
