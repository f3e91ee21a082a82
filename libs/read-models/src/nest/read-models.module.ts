import { Global, Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { ApiException, HealthRegistry, Metrics } from '@el/platform';
import { describeReadDb, openReadModels, type ReadDbConfig } from '../data-source';
import { ReadModelPosition } from '../queries/read-model-position';
import { InvalidCursorError, ReadModelQueries } from '../queries/read-model-queries';

export const READ_MODELS = Symbol('READ_MODELS');
export const READ_MODELS_OPTIONS = Symbol('READ_MODELS_OPTIONS');
export const InjectReadModels = () => Inject(READ_MODELS);

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
    @Inject(READ_MODELS_OPTIONS) private readonly options: ReadModelsOptions,
  ) {}

  async require(minPosition: number | undefined): Promise<number> {
    if (minPosition === undefined) return this.position.current();
    if (await this.position.waitFor(minPosition, this.options.queryWaitMs)) return this.position.current();
    const reached = await this.position.current();
    throw new ApiException(503, 'READ_MODEL.BEHIND', `the read models are at position ${reached}, behind the requested ${minPosition}; retry shortly`, {
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
        throw new ApiException(400, 'VALIDATION_FAILED', 'cursor: is not one this API returned', undefined, [{ path: 'cursor', message: 'cursor is not one this API returned', constraint: 'isCursor' }]);
      }
      throw err;
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
              await ds.query('SELECT 1');
              return { status: 'up', db: describeReadDb(options.db) };
            });
            return ds;
          },
        },
        { provide: ReadModelQueries, inject: [READ_MODELS], useFactory: (ds: DataSource) => new ReadModelQueries(ds) },
        { provide: ReadModelPosition, inject: [READ_MODELS], useFactory: (ds: DataSource) => new ReadModelPosition(ds, options.subscriptionId) },
        ReadYourWrites,
        ReadModelsLifecycle,
      ],
      exports: [READ_MODELS, READ_MODELS_OPTIONS, ReadModelQueries, ReadModelPosition, ReadYourWrites],
    };
  }
}
