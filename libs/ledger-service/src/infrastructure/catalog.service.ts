import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import {
  CATALOG_STREAM,
  decidePublishCatalog,
  evolveCatalogHistory,
  catalogDocument,
  initialCatalogHistory,
  type Catalog,
  type CatalogEvent,
  type CatalogHistory,
  type PublishedCatalog,
} from '@el/domain';
import { isConcurrencyError } from '@el/event-store';
import { Clock, hashOf, loadDocumentFile } from '@el/platform';
import { LedgerError } from '../ledger.errors';
import { LEDGER_CONFIG, type LedgerConfig } from '../ledger.config';
import { EventStreams } from './event-streams';

/**
 * The catalog in force and every version published before it. At boot the
 * file is validated and, when its content differs from the newest published
 * version, published as the next version (an event), so a past decision can
 * always be explained with the catalog that was in force then.
 */
@Injectable()
export class CatalogService implements OnModuleInit {
  private readonly logger = new Logger('catalog');
  private history: CatalogHistory = initialCatalogHistory;

  constructor(
    @Inject(LEDGER_CONFIG) private readonly config: LedgerConfig,
    private readonly streams: EventStreams,
    private readonly clock: Clock,
  ) {}

  async onModuleInit(): Promise<void> {
    const catalog = loadDocumentFile(this.config.CATALOG_PATH, { variable: 'CATALOG_PATH', what: 'catalog', errorName: 'CatalogLoadError', parse: catalogDocument });
    const published = await this.publish(catalog);
    this.logger.log({ version: published.version, label: published.catalog.label, products: catalog.products.length }, 'catalog in force');
  }

  async publish(catalog: Catalog): Promise<PublishedCatalog> {
    const hash = hashOf(catalog);
    for (let attempt = 1; ; attempt++) {
      const loaded = await this.streams.load<CatalogEvent>(CATALOG_STREAM);
      this.history = loaded.events.reduce(evolveCatalogHistory, initialCatalogHistory);
      const now = this.clock.now().toISOString();
      const events = decidePublishCatalog(
        {
          type: 'PublishCatalog',
          data: { catalog, hash },
          metadata: { now, correlationId: `catalog-${hash.slice(0, 12)}`, causationId: `catalog-${hash.slice(0, 12)}`, actor: { type: 'system', id: 'catalog-loader' }, source: 'system' },
        },
        this.history,
      );
      if (events.length === 0) return this.history.current!;
      try {
        await this.streams.append(CATALOG_STREAM, events, EventStreams.expected(loaded), `catalog:${hash}:${loaded.revision}`);
        this.history = events.reduce(evolveCatalogHistory, this.history);
        return this.history.current!;
      } catch (err) {
        // Another instance published at the same time: re-read and decide again.
        if (!isConcurrencyError(err) || attempt >= 5) throw err;
      }
    }
  }

  /** Keeps this instance in step with versions published by other instances. */
  observe(event: CatalogEvent): void {
    if (this.history.versions.some((v) => v.version === event.data.version)) return;
    this.history = evolveCatalogHistory(this.history, event);
  }

  current(): PublishedCatalog {
    if (!this.history.current) throw new Error('catalog not loaded yet');
    return this.history.current;
  }

  version(version: number): PublishedCatalog {
    const found = this.history.versions.find((v) => v.version === version);
    if (!found) throw new LedgerError('CATALOG_VERSION.NOT_FOUND', `catalog version ${version} was never published (newest: ${this.history.current?.version ?? 'none'})`);
    return found;
  }

  versions(): readonly PublishedCatalog[] {
    return this.history.versions;
  }
}
