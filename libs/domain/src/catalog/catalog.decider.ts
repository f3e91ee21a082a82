import { envelope, type Command, type DomainEvent } from '../shared/envelope';
import type { Catalog, PublishedCatalog } from './catalog';

/** The stream that holds every catalog version ever published. */
export const CATALOG_STREAM = 'catalog';

export type CatalogPublished = DomainEvent<
  'CatalogPublished',
  { version: number; hash: string; label: string; catalog: Catalog }
>;
export type CatalogEvent = CatalogPublished;
export type PublishCatalog = Command<'PublishCatalog', { catalog: Catalog; hash: string }>;

export interface CatalogHistory {
  readonly current: PublishedCatalog | null;
  readonly versions: readonly PublishedCatalog[];
}

export const initialCatalogHistory: CatalogHistory = { current: null, versions: [] };

/** Publishing the catalog already in force is a no-op; anything else is the next version. */
export function decidePublishCatalog(command: PublishCatalog, state: CatalogHistory): CatalogEvent[] {
  if (state.current?.hash === command.data.hash) return [];
  return [
    {
      type: 'CatalogPublished',
      data: {
        version: (state.current?.version ?? 0) + 1,
        hash: command.data.hash,
        label: command.data.catalog.label,
        catalog: command.data.catalog,
      },
      metadata: envelope(command.metadata),
    },
  ];
}

export function evolveCatalogHistory(state: CatalogHistory, event: CatalogEvent): CatalogHistory {
  const published: PublishedCatalog = { version: event.data.version, hash: event.data.hash, catalog: event.data.catalog };
  return { current: published, versions: [...state.versions, published] };
}
