import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@el/event-store';
import { readCheckpoint, ReadModelProjector, dialectOf } from '@el/read-models';
import { LedgerLog } from '@el/event-store/testing';
import { dumpReadModels, openTestReadModels } from '@el/read-models/testing';
import { describeBackend, freePort, READ_DB_BACKENDS, until, type TestReadDb } from '@el/testing';

/**
 * The projector as its own process (as in distributed mode), killed with
 * SIGKILL in the middle of a batch: rows written, transaction not committed.
 * After a restart its read models must equal a projection from scratch.
 */
const ROOT = join(__dirname, '..', '..', '..');
const MAIN = join(ROOT, 'dist', 'apps', 'projector', 'src', 'main.js');
const REBUILD = join(ROOT, 'dist', 'apps', 'projector', 'src', 'rebuild.js');

interface Proc {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [MAIN], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, output: () => out, exited };
}

for (const backend of READ_DB_BACKENDS) {
  describeBackend(backend, 'projector process', () => {
    let dataDir: string;
    let db: TestReadDb;
    const procs: Proc[] = [];
    beforeEach(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'el-projector-'));
      db = await backend.create();
    });
    afterEach(async () => {
      for (const p of procs.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await db.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    });

    const readDbEnv = (): Record<string, string> => (db.kind === 'postgres' ? { READ_DB: 'postgres', READ_DB_URL: db.url } : { READ_DB: 'sqlite', READ_DB_PATH: db.path });

    it('killed mid-batch, restarts from its checkpoint and ends equal to a full rebuild', async () => {
      const store = SqliteEventStore.open({ path: join(dataDir, 'events.db') });
      const head = await new LedgerLog(store).scenario(600, 90);
      await store.close();
      const pauseAt = Math.floor(head / 2);

      const first = start({ DATA_DIR: dataDir, PORT: String(await freePort()), PROJECTOR_BATCH_SIZE: '100', PROJECTOR_TEST_PAUSE_AT_POSITION: String(pauseAt), ...readDbEnv() });
      procs.push(first);
      await until('the projector to pause inside a batch', () => first.output().includes('projector paused in batch'));
      first.child.kill('SIGKILL');
      expect((await first.exited).signal).toBe('SIGKILL');

      // The batch that was open is gone as a whole: checkpoint before it, no row after the checkpoint.
      const ds = await openTestReadModels(db);
      try {
        const qr = ds.createQueryRunner();
        const checkpoint = await readCheckpoint(qr, dialectOf(ds), 'read-models');
        await qr.release();
        expect(checkpoint).toBeGreaterThan(0);
        expect(checkpoint).toBeLessThan(pauseAt);
        const [{ n }] = (await ds.query(`SELECT COUNT(*) AS n FROM rm_entitlements WHERE last_position > ${checkpoint}`)) as { n: string | number }[];
        expect(Number(n)).toBe(0);
      } finally {
        await ds.destroy();
      }

      const second = start({ DATA_DIR: dataDir, PORT: String(await freePort()), ...readDbEnv() });
      procs.push(second);
      const live = await openTestReadModels(db);
      try {
        await until('the restarted projector to catch up', async () => {
          const qr = live.createQueryRunner();
          try {
            return (await readCheckpoint(qr, dialectOf(live), 'read-models')) === head;
          } finally {
            await qr.release();
          }
        });
        second.child.kill('SIGTERM');
        expect((await second.exited).code).toBe(0);

        // A projection from scratch into an empty database.
        const fresh = await backend.create();
        const freshDs = await openTestReadModels(fresh);
        const readStore = SqliteEventStore.open({ path: join(dataDir, 'events.db') });
        try {
          const projector = new ReadModelProjector(freshDs, readStore, { subscriptionId: 'read-models', batchSize: 500 });
          projector.start();
          await until('the fresh projection', async () => (await projector.position()) === head);
          await projector.stop();
          const expected = await dumpReadModels(freshDs);
          expect((expected['rm_entitlements'] as unknown[]).length).toBe(600);
          expect(await dumpReadModels(live)).toEqual(expected);

          // The rebuild CLI on the same data: progress, a summary, and the same rows.
          const rebuild = spawnSync(process.execPath, [REBUILD], { cwd: ROOT, env: { ...process.env, DATA_DIR: dataDir, ...readDbEnv() }, encoding: 'utf8' });
          expect(rebuild.status).toBe(0);
          expect(rebuild.stderr).toMatch(/events\/s/);
          expect(rebuild.stdout).toMatch(new RegExp(`rebuilt ${head.toLocaleString('en-US')} events up to position ${head}`));
          expect(await dumpReadModels(live)).toEqual(expected);
        } finally {
          await readStore.close();
          await freshDs.destroy();
          await fresh.cleanup();
        }
      } finally {
        await live.destroy();
      }
    });

    it('refuses to start without READ_DB_URL for PostgreSQL, naming the variable', async () => {
      const p = start({ DATA_DIR: dataDir, PORT: String(await freePort()), READ_DB: 'postgres' });
      procs.push(p);
      expect((await p.exited).code).toBe(1);
      expect(p.output()).toContain('READ_DB_URL: is required when READ_DB=postgres');
    });
  });
}
