import type { DataSource, EntityManager } from 'typeorm';

/** Parameter placeholders of the store's dialect: `$1, $2…` on PostgreSQL, `?` on SQLite. */
export function placeholders(db: DataSource): (n: number) => string {
  return db.options.type === 'postgres' ? (n) => `$${n}` : () => '?';
}

/**
 * Multi-row inserts of at most `rowsPerStatement` rows (default 200: SQLite's
 * and PostgreSQL's parameter limits allow it for rows of up to ~150 columns).
 * `into` is the table with its column list; `suffix` (e.g. ON CONFLICT DO NOTHING) follows each statement.
 */
export async function insertRows(tx: EntityManager, p: (n: number) => string, into: string, rows: readonly unknown[][], options: { suffix?: string; rowsPerStatement?: number } = {}): Promise<void> {
  const per = options.rowsPerStatement ?? 200;
  for (let offset = 0; offset < rows.length; offset += per) {
    const params: unknown[] = [];
    const values = rows.slice(offset, offset + per).map((r) => `(${r.map((v) => (params.push(v), p(params.length))).join(', ')})`);
    await tx.query(`INSERT INTO ${into} VALUES ${values.join(', ')}${options.suffix ? ` ${options.suffix}` : ''}`, params);
  }
}
