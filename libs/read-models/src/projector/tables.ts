import { PROJECTED_ENTITIES } from '../schema/entities';

/**
 * Which physical tables a projector writes: the live ones, or the shadow set
 * a rebuild fills before swapping it in.
 */
export interface TableSet {
  readonly suffix: string;
  name(liveTable: string): string;
}

export const LIVE_TABLES: TableSet = { suffix: '', name: (t) => t };
export const shadowTables = (suffix = '__rebuild'): TableSet => ({ suffix, name: (t) => `${t}${suffix}` });

export const PROJECTED_TABLES: readonly string[] = PROJECTED_ENTITIES.map((e) => e.options.tableName!);
