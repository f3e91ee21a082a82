import 'reflect-metadata';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { auditConfigSpec, auditDbConfig, auditKeystoreDir, AUDIT_SCHEMA, byteLines, checkStore, TREE_HEAD_KEY_USE, verifyExport, type PublishedJwk } from '@el/audit-service';
import { eventStoreConfigSpec, openEventStore, storedEvents } from '@el/event-store';
import { ConfigError, configReader, env, Keystore, progressPrinter, runMain } from '@el/platform';
import { describeReadDb, openReadModels } from '@el/read-models';

const USAGE = `usage: npm run audit -- verify <export.jsonl | -> [--jwks <file | URL>]
       npm run audit -- check-store

  verify       checks an export (GET /v1/audit/export) from the export alone and the public keys:
               every event's leaf hash recomputed from its bytes, every signed tree head's signature,
               the Merkle roots (a complete export) or each event's inclusion proof (a partial one),
               order, count and the end line. Names the first position that does not verify.
               --jwks: the JWKS as a file or a URL (default $LEDGER_URL/.well-known/jwks.json,
               LEDGER_URL defaulting to http://localhost:8080). Exit 0: verified; 1: refused.
  check-store  compares the live event store (EVENT_STORE, DATA_DIR / ESDB_URL) with the audit store
               (AUDIT_DB, AUDIT_DB_PATH / AUDIT_DB_URL): any event altered, removed or inserted out of
               band in either, and every stored tree head against the stored leaves and the audit key
               (AUDIT_KEYSTORE_DIR). Exit 0: consistent; 1: discrepancies, listed.
`;

async function loadJwks(source: string): Promise<{ keys?: PublishedJwk[] }> {
  if (/^https?:\/\//.test(source)) {
    const res = await fetch(source, { signal: AbortSignal.timeout(10_000) }).catch((err: Error) => {
      throw new ConfigError([{ variable: '--jwks', message: `${source} does not answer (${err.message}); pass the JWKS as a file with --jwks <file>` }]);
    });
    if (!res.ok) throw new ConfigError([{ variable: '--jwks', message: `${source} answered ${res.status}` }]);
    return (await res.json()) as { keys?: PublishedJwk[] };
  }
  if (!existsSync(source)) throw new ConfigError([{ variable: '--jwks', message: `no file ${source}` }]);
  try {
    return JSON.parse(readFileSync(source, 'utf8')) as { keys?: PublishedJwk[] };
  } catch (err) {
    throw new ConfigError([{ variable: '--jwks', message: `${source} is not JSON: ${(err as Error).message}` }]);
  }
}

async function verify(args: readonly string[]): Promise<number> {
  const file = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--jwks');
  const jwksAt = args.indexOf('--jwks');
  if (!file || (jwksAt >= 0 && !args[jwksAt + 1])) {
    process.stderr.write(USAGE);
    return 2;
  }
  if (file !== '-' && !existsSync(file)) {
    process.stderr.write(`no file ${file}\n`);
    return 2;
  }
  const jwks = await loadJwks(jwksAt >= 0 ? args[jwksAt + 1]! : `${process.env['LEDGER_URL'] ?? 'http://localhost:8080'}/.well-known/jwks.json`);
  const auditKeys = (jwks.keys ?? []).filter((k) => k.use === TREE_HEAD_KEY_USE).length;
  process.stderr.write(`verifying ${file === '-' ? 'standard input' : file} with ${auditKeys} tree-head key(s)\n`);
  const lines = byteLines(file === '-' ? process.stdin : createReadStream(file, { highWaterMark: 1 << 20 }));
  const started = performance.now();
  const print = progressPrinter();
  const rate = (done: number) => done / Math.max(0.001, (performance.now() - started) / 1000);
  const report = await verifyExport(lines, { jwks, onProgress: (done, total) => print({ phase: 'events', done, total, unit: 'events', perSecond: rate(done) }), progressEvery: 20_000 });
  print({ phase: 'done', done: report.events, total: report.events, unit: 'events', perSecond: rate(report.events) });
  if (report.ok) {
    const h = report.treeHead!;
    process.stdout.write(
      `verified: ${report.events.toLocaleString('en-US')} events${report.complete ? `, ${report.treeHeads} signed tree heads recomputed` : ', each with its inclusion proof'}, ` +
        `in the tree of ${h.treeSize.toLocaleString('en-US')} events (up to position ${h.lastPosition}) with root ${h.rootHash}, signed ${h.timestamp} by ${h.kid}\n`,
    );
    return 0;
  }
  const f = report.failure!;
  process.stdout.write(`NOT VERIFIED${f.position !== null ? ` at position ${f.position}` : ''} (line ${f.line}): ${f.reason}\n`);
  return 1;
}

async function check(): Promise<number> {
  const config = configReader({ ...eventStoreConfigSpec, ...auditConfigSpec, DATA_DIR: env.string({ default: './data', description: 'Directory of the embedded stores (events.db, audit.db)' }) })();
  const db = auditDbConfig(config, config.DATA_DIR);
  if (db.kind === 'sqlite' && !existsSync(db.path)) throw new ConfigError([{ variable: 'AUDIT_DB_PATH', message: `no audit store at ${db.path} (DATA_DIR ${config.DATA_DIR})` }]);
  const keysDir = auditKeystoreDir(config, config.DATA_DIR);
  const keystore = await Keystore.open(keysDir, { create: false, overlapDays: config.AUDIT_KEY_OVERLAP_DAYS, now: new Date(), allowSharedRead: config.AUDIT_KEYSTORE_ALLOW_SHARED_READ, use: TREE_HEAD_KEY_USE, variable: 'AUDIT_KEYSTORE_DIR' });
  const store = openEventStore(config);
  const ds = await openReadModels(db, AUDIT_SCHEMA);
  process.stderr.write(`comparing the event store with the audit store ${describeReadDb(db)}\n`);
  const started = performance.now();
  const print = progressPrinter();
  try {
    const report = await checkStore(storedEvents(store), ds, keystore.jwks(new Date()), { onProgress: (done, total) => print({ phase: 'events', done, total, unit: 'events', perSecond: done / Math.max(0.001, (performance.now() - started) / 1000) }) });
    print({ phase: 'done', done: report.events, total: report.events, unit: 'events', perSecond: report.events / Math.max(0.001, (performance.now() - started) / 1000) });
    for (const f of report.findings) process.stdout.write(`${f.store}: ${f.problem}${f.position !== null ? ` at position ${f.position}` : ''} — ${f.detail}\n`);
    const behind = report.notYetLogged > 0 ? `; ${report.notYetLogged} newer event(s) not logged yet` : '';
    process.stdout.write(report.ok ? `consistent: ${report.events.toLocaleString('en-US')} events and ${report.treeHeads} signed tree heads${behind}\n` : `${report.findings.length} discrepanc${report.findings.length === 1 ? 'y' : 'ies'} in ${report.events.toLocaleString('en-US')} events${behind}\n`);
    return report.ok ? 0 : 1;
  } finally {
    await ds.destroy();
    await store.close();
  }
}

/** npm run audit -- verify | check-store (the work is in @el/audit-service; this is its command line). */
runMain('audit', async () => {
  const [command, ...args] = process.argv.slice(2);
  if (command === 'verify') process.exitCode = await verify(args);
  else if (command === 'check-store' && args.length === 0) process.exitCode = await check();
  else {
    process.stderr.write(USAGE);
    process.exitCode = command === undefined || command === '--help' ? 0 : 2;
  }
});
