import type { Catalog } from '@el/domain';
import { LEDGER_SOURCE } from './topics';

/**
 * io.ledger.catalog.published.v1 — the relay (and the in-process bus) sends
 * one on EVERY partition of ledger.entitlements.v1 when a catalog version is
 * published in the ledger (a `CatalogPublished` event on the `catalog`
 * stream), in order with the entitlement changes around it. A view fed by the
 * topic therefore knows which catalog was in force at each ledger position:
 * the newest one whose `position` it has passed. Like watermarks, it is a
 * control message (header `ledger_control: catalog`), so consumers that only
 * want entitlement changes skip it without parsing.
 */
export interface CatalogPublishedV1 {
  readonly specversion: '1.0';
  /** `catalog:<version>:<partition>`: one message per partition, each with its own id. */
  readonly id: string;
  readonly type: 'io.ledger.catalog.published.v1';
  readonly source: string;
  readonly subject: 'catalog';
  /** When the ledger recorded the version. */
  readonly time: string;
  readonly datacontenttype: 'application/json';
  /** Ledger position of the CatalogPublished event: the catalog is in force from here on. */
  readonly position: number;
  readonly data: {
    readonly version: number;
    readonly hash: string;
    readonly label: string;
    readonly catalog: Catalog;
  };
}

export const CATALOG_PUBLISHED_TYPE = 'io.ledger.catalog.published.v1';

export interface StoredCatalogPublished {
  readonly position: number;
  readonly recordedAt: string;
  readonly version: number;
  readonly hash: string;
  readonly label: string;
  readonly catalog: Catalog;
}

export function catalogPublishedV1(stored: StoredCatalogPublished, partition: number): CatalogPublishedV1 {
  return {
    specversion: '1.0',
    id: `catalog:${stored.version}:${partition}`,
    type: CATALOG_PUBLISHED_TYPE,
    source: LEDGER_SOURCE,
    subject: 'catalog',
    time: stored.recordedAt,
    datacontenttype: 'application/json',
    position: stored.position,
    data: { version: stored.version, hash: stored.hash, label: stored.label, catalog: stored.catalog },
  };
}
