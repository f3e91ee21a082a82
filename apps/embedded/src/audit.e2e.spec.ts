import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  AuditLog,
  auditEntry,
  entryLeafHash,
  rootOf,
  TreeHeadVerifier,
  verifyConsistency,
  verifyExport,
  verifyInclusion,
} from '@el/audit-service';
import { storedEvents, type EventStore } from '@el/event-store';
import type { SignedTreeHeadV1 } from '@el/contracts';
import { startEmbeddedApp, type EmbeddedApp } from './testing/embedded-app';
import { ROOT } from './testing/embedded-process';

const AUDIT_CLI = join(ROOT, 'dist', 'apps', 'embedded', 'src', 'audit-cli.js');

async function* linesOf(text: string): AsyncGenerator<string> {
  for (const line of text.split('\n')) yield line;
}

function order(orderId: string, customerId: string, lines: object[]) {
  return { orderId, customerId, lines };
}

/** Every stored event (as stored, not upcasted) with its leaf hash: the tree the audit log must hold, built from scratch. */
async function leavesFromScratch(store: EventStore): Promise<{ positions: number[]; leaves: Buffer[]; streams: string[] }> {
  const raw = storedEvents(store);
  const positions: number[] = [];
  const leaves: Buffer[] = [];
  const streams: string[] = [];
  for (let after = 0; ; ) {
    const page = await raw.readAll({ after, maxCount: 1000 });
    if (page.length === 0) return { positions, leaves, streams };
    for (const e of page) {
      positions.push(e.position);
      leaves.push(entryLeafHash(auditEntry(e)));
      streams.push(e.stream);
    }
    after = page[page.length - 1]!.position;
  }
}

describe('audit: a tamper-evident log of every event, with signed tree heads, proofs, history and verifiable exports', () => {
  let t: EmbeddedApp;
  let acmeEntitlement: string;

  beforeAll(async () => {
    t = await startEmbeddedApp({ AUDIT_TREE_HEAD_EVERY_EVENTS: '5' });
    const placed = await t.http('POST', '/v1/orders', order('SO-1', 'acme', [{ lineId: '10', sku: 'ANL-PRO', quantity: 5, action: 'new' }, { lineId: '20', sku: 'DSG-PRO', quantity: 2, action: 'new' }]));
    expect(placed.status).toBe(201);
    acmeEntitlement = placed.body.lines[0].entitlementId;
    expect((await t.http('POST', '/v1/orders', order('SO-2', 'globex', [{ lineId: '10', sku: 'ANL-PRO', quantity: 3, action: 'new' }]))).status).toBe(201);
    // An upgrade, a license token and an API key: events of other streams.
    expect((await t.http('POST', '/v1/orders', order('SO-3', 'acme', [{ lineId: '10', sku: 'ANL-ENT', quantity: 1, action: 'upgrade', entitlementId: acmeEntitlement }]))).status).toBe(201);
    expect((await t.http('POST', '/v1/tokens', { customerId: 'acme' })).status).toBe(201);
    expect((await t.http('POST', '/v1/api-keys', { name: 'auditor', role: 'auditor' })).status).toBe(201);
    await t.auditAtHead();
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  it('holds every stored event of every stream, in position order, with the root a from-scratch build gives', async () => {
    const scratch = await leavesFromScratch(t.store);
    const log = t.app.get(AuditLog);
    expect(log.size).toBe(scratch.leaves.length);
    expect(log.tree.root().equals(rootOf(scratch.leaves))).toBe(true);
    const kinds = new Set(scratch.streams.map((s) => s.replace(/-.*$/, '')));
    for (const kind of ['catalog', 'api', 'order', 'entitlement', 'license']) expect(kinds).toContain(kind);
  });

  it('signs tree heads with its own key, published in the JWKS with use "audit" next to the license-token key', async () => {
    const jwks = await t.http('GET', '/.well-known/jwks.json', undefined, { authorization: '' });
    const audit = jwks.body.keys.filter((k: { use: string }) => k.use === 'audit');
    const sig = jwks.body.keys.filter((k: { use: string }) => k.use === 'sig');
    expect(audit).toHaveLength(1);
    expect(sig).toHaveLength(1);
    expect(audit[0].kid).toMatch(/^audit-/);
    expect(audit[0].kid).not.toBe(sig[0].kid);

    const latest = await t.http<SignedTreeHeadV1>('GET', '/v1/audit/tree-heads/latest');
    expect(latest.status).toBe(200);
    const verifier = new TreeHeadVerifier(jwks.body);
    expect(verifier.verify(latest.body)).toEqual({ ok: true });
    expect(latest.body.treeSize).toBe(t.app.get(AuditLog).size);
    // Every 5 events one was signed on its own; each verifies.
    const heads = await t.http('GET', '/v1/audit/tree-heads?limit=1000');
    expect(heads.body.items.length).toBeGreaterThan(2);
    for (const h of heads.body.items) expect(verifier.verify(h)).toEqual({ ok: true });
    // A license-token key (use "sig") cannot vouch for a tree head.
    const forged = new TreeHeadVerifier({ keys: [{ ...sig[0], use: 'sig' }] });
    expect(forged.verify({ ...latest.body, kid: sig[0].kid }).ok).toBe(false);
  });

  it('proves an event in a signed tree, and an older signed tree a prefix of the newest (RFC 6962)', async () => {
    const history = await t.http('GET', `/v1/audit/history?entitlementId=${acmeEntitlement}`);
    const granted = history.body.items.find((i: { type: string }) => i.type === 'EntitlementGranted');
    const proof = await t.http('GET', `/v1/audit/proofs/inclusion?position=${granted.position}`);
    expect(proof.status).toBe(200);
    expect(proof.body.treeHead.rootHash).toBe(proof.body.rootHash);
    const leaf = entryLeafHash(proof.body.entry);
    expect(leaf.toString('hex')).toBe(proof.body.leafHash);
    const path = proof.body.proof.map((h: string) => Buffer.from(h, 'hex'));
    expect(verifyInclusion(leaf, proof.body.leafIndex, proof.body.treeSize, path, Buffer.from(proof.body.rootHash, 'hex'))).toBe(true);
    expect(verifyInclusion(leaf, proof.body.leafIndex + 1, proof.body.treeSize, path, Buffer.from(proof.body.rootHash, 'hex'))).toBe(false);

    const heads = (await t.http('GET', '/v1/audit/tree-heads?limit=1000')).body.items as SignedTreeHeadV1[];
    const older = heads[0]!;
    const c = await t.http('GET', `/v1/audit/proofs/consistency?from=${older.treeSize}`);
    expect(c.status).toBe(200);
    expect(c.body.fromRoot).toBe(older.rootHash);
    expect(verifyConsistency(c.body.from, c.body.to, Buffer.from(older.rootHash, 'hex'), Buffer.from(c.body.toTreeHead.rootHash, 'hex'), c.body.proof.map((h: string) => Buffer.from(h, 'hex')))).toBe(true);

    // Bad input: field paths, and codes for what the log does not have.
    const bad = await t.http('GET', '/v1/audit/proofs/inclusion?position=abc');
    expect([bad.status, bad.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toContain('position');
    const beyond = await t.http('GET', '/v1/audit/proofs/inclusion?position=999999');
    expect([beyond.status, beyond.body.code]).toEqual([404, 'AUDIT.EVENT_NOT_FOUND']);
    const tooBig = await t.http('GET', `/v1/audit/proofs/inclusion?position=${granted.position}&treeSize=999999`);
    expect([tooBig.status, tooBig.body.code]).toEqual([400, 'AUDIT.TREE_SIZE_OUT_OF_RANGE']);
    const backwards = await t.http('GET', `/v1/audit/proofs/consistency?from=5&to=3`);
    expect([backwards.status, backwards.body.code]).toEqual([400, 'AUDIT.TREE_SIZE_OUT_OF_RANGE']);
  });

  it('answers the history of an entitlement, a customer, an actor and a correlation id, with who, why, when and where from; paginated and filtered', async () => {
    const ent = await t.http('GET', `/v1/audit/history?entitlementId=${acmeEntitlement}`);
    expect(ent.status).toBe(200);
    const types = ent.body.items.map((i: { type: string }) => i.type);
    expect(types).toEqual(expect.arrayContaining(['EntitlementGranted', 'PlanChanged', 'LicenseTokenIssued']));
    const grant = ent.body.items.find((i: { type: string }) => i.type === 'EntitlementGranted');
    expect(grant).toMatchObject({ stream: `entitlement-${acmeEntitlement}`, revision: 0, source: 'api', actor: { type: 'operator' } });
    expect(grant.recordedAt).toEqual(expect.any(String));
    expect(grant.effectiveAt).toEqual(expect.any(String));
    expect(grant.causationId).toEqual(expect.any(String));

    // The ERP order → its grants: one correlation id.
    const orderEvents = await t.http('GET', `/v1/audit/history?correlationId=${grant.correlationId}`);
    expect(orderEvents.body.items.map((i: { type: string }) => i.type)).toEqual(expect.arrayContaining(['OrderReceived', 'EntitlementGranted']));
    expect(orderEvents.body.items.every((i: { correlationId: string }) => i.correlationId === grant.correlationId)).toBe(true);

    const actor = await t.http('GET', `/v1/audit/history?actor=${encodeURIComponent(grant.actor.id)}&types=OrderReceived`);
    expect(actor.body.items.map((i: { data: { orderId: string } }) => i.data.orderId)).toEqual(['SO-1', 'SO-2', 'SO-3']);

    const customer = await t.http('GET', '/v1/audit/history?customerId=globex');
    expect(customer.body.items.length).toBeGreaterThan(0);
    expect(customer.body.items.some((i: { data: { customerId?: string } }) => i.data.customerId === 'acme')).toBe(false);

    // Pages of 2 walk the same list.
    const all = (await t.http('GET', '/v1/audit/history?customerId=acme&limit=500')).body.items.map((i: { position: number }) => i.position);
    const paged: number[] = [];
    for (let cursor: number | null = -1; cursor !== null; ) {
      const page: { body: { items: { position: number }[]; nextCursor: number | null } } = await t.http('GET', `/v1/audit/history?customerId=acme&limit=2&cursor=${cursor}`);
      paged.push(...page.body.items.map((i) => i.position));
      cursor = page.body.nextCursor;
    }
    expect(paged).toEqual(all);
    expect([...all].sort((a, b) => a - b)).toEqual(all);
    expect((await t.http('GET', '/v1/audit/history?customerId=acme&recordedFrom=2999-01-01T00:00:00Z')).body.items).toEqual([]);

    const none = await t.http('GET', '/v1/audit/history');
    expect([none.status, none.body.code]).toEqual([400, 'AUDIT.BAD_QUERY']);
    const two = await t.http('GET', '/v1/audit/history?customerId=acme&actor=x');
    expect([two.status, two.body.code]).toEqual([400, 'AUDIT.BAD_QUERY']);
    expect((await t.http('GET', '/v1/audit/history?customerId=acme&recordedFrom=2026-12-02')).status).toBe(400);
    expect((await t.http('GET', '/v1/audit/history?customerId=acme&recordedFrom=2026-12-02T10:00:00Z&recordedBefore=2026-12-01T10:00:00Z')).body.code).toBe('AUDIT.BAD_QUERY');
    expect((await t.http('GET', '/v1/audit/history?customerId=acme&cursor=0x10')).status).toBe(400);
    const badType = await t.http('GET', '/v1/audit/history?customerId=acme&types=a%20b');
    expect([badType.status, badType.body.code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('exports that verify from the export and the JWKS alone; a customer admin gets only its own events, with proofs', async () => {
    const jwks = (await t.http('GET', '/.well-known/jwks.json', undefined, { authorization: '' })).body;
    const full = await t.http('GET', '/v1/audit/export');
    expect(full.status).toBe(200);
    expect(full.headers['content-type']).toContain('application/x-ndjson');
    const report = await verifyExport(linesOf(full.body as string), { jwks });
    expect(report).toMatchObject({ ok: true, complete: true, events: t.app.get(AuditLog).size });
    expect(report.treeHeads).toBeGreaterThan(2);

    const portal = await t.keyFor('customer-admin', ['acme']);
    const own = await t.http('GET', '/v1/audit/export', undefined, portal);
    expect(own.status).toBe(200);
    const ownLines = (own.body as string).trim().split('\n').map((l) => JSON.parse(l));
    expect(ownLines[0]).toMatchObject({ kind: 'header', customerId: 'acme', complete: false });
    const events = ownLines.filter((l) => l.kind === 'event');
    expect(events.length).toBeGreaterThan(3);
    expect(events.every((e) => Array.isArray(e.proof))).toBe(true);
    expect(JSON.stringify(events)).not.toContain('globex');
    expect(await verifyExport(linesOf(own.body as string), { jwks })).toMatchObject({ ok: true, complete: false, events: events.length });

    expect((await t.http('GET', '/v1/audit/export?customerId=globex', undefined, portal)).status).toBe(404);
    expect((await t.http('GET', '/v1/audit/history?customerId=acme', undefined, portal)).status).toBe(403);
    expect((await t.http('GET', '/v1/audit/tree-heads/latest', undefined, portal)).status).toBe(403);
    const auditor = await t.keyFor('auditor');
    expect((await t.http('GET', '/v1/audit/history?customerId=acme', undefined, auditor)).status).toBe(200);
    expect((await t.http('GET', '/v1/audit/export?fromPosition=3&toPosition=9', undefined, auditor)).status).toBe(200);
    const erp = await t.keyFor('erp');
    expect((await t.http('GET', '/v1/audit/export', undefined, erp)).status).toBe(403);
    expect((await t.http('GET', '/v1/audit/export', undefined, { authorization: '' })).status).toBe(401);

    // A range export proves each event in the newest signed tree.
    const range = await t.http('GET', '/v1/audit/export?fromPosition=3&toPosition=9');
    expect(await verifyExport(linesOf(range.body as string), { jwks })).toMatchObject({ ok: true, complete: false, events: 7 });
    // A complete export up to a position ends exactly there, at a head of that size (signed for it).
    const upTo = await t.http('GET', '/v1/audit/export?toPosition=7');
    const upToReport = await verifyExport(linesOf(upTo.body as string), { jwks });
    expect(upToReport).toMatchObject({ ok: true, complete: true, events: 7, treeHead: { treeSize: 7, lastPosition: 7 } });
    for (const bad of ['fromPosition=9&toPosition=3', 'toPosition=0x10', 'fromPosition=1e3', 'fromPosition=', 'toPosition=-1']) {
      const res = await t.http('GET', `/v1/audit/export?${bad}`);
      expect({ bad, status: res.status }).toEqual({ bad, status: 400 });
    }
  });

  it('refuses a truncated export, a reordered one and a tree head with a wrong signature', async () => {
    const jwks = (await t.http('GET', '/.well-known/jwks.json', undefined, { authorization: '' })).body;
    const lines = ((await t.http('GET', '/v1/audit/export')).body as string).trim().split('\n');

    const truncated = await verifyExport(linesOf(lines.slice(0, lines.length - 4).join('\n')), { jwks });
    expect(truncated.ok).toBe(false);
    expect(truncated.failure!.reason).toContain('truncated');

    const eventAt = lines.findIndex((l, i) => i > 2 && l.startsWith('{"kind":"event"') && lines[i + 1]!.startsWith('{"kind":"event"'));
    const reordered = [...lines];
    [reordered[eventAt], reordered[eventAt + 1]] = [reordered[eventAt + 1]!, reordered[eventAt]!];
    const r = await verifyExport(linesOf(reordered.join('\n')), { jwks });
    expect(r.ok).toBe(false);
    expect(r.failure!.position).toBe(JSON.parse(lines[eventAt + 1]!).event.position);

    const header = JSON.parse(lines[0]!);
    const sig = header.treeHead.signature as string;
    header.treeHead.signature = `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
    const badSig = await verifyExport(linesOf([JSON.stringify(header), ...lines.slice(1)].join('\n')), { jwks });
    expect(badSig.ok).toBe(false);
    expect(badSig.failure!.reason).toContain('signature');

    const withoutHeads = await verifyExport(linesOf(lines.filter((l) => !l.startsWith('{"kind":"treeHead"')).join('\n')), { jwks });
    expect(withoutHeads.ok).toBe(false);
    expect(withoutHeads.failure!.reason).toContain('signed tree heads');
    const afterEnd = await verifyExport(linesOf([...lines, '', '{"kind":"event"}'].join('\n')), { jwks });
    expect(afterEnd.ok).toBe(false);

    const headAt = lines.findIndex((l) => l.startsWith('{"kind":"treeHead"'));
    const head = JSON.parse(lines[headAt]!);
    head.rootHash = head.rootHash.replace(/^./, (c: string) => (c === '0' ? '1' : '0'));
    const badHead = await verifyExport(linesOf([...lines.slice(0, headAt), JSON.stringify(head), ...lines.slice(headAt + 1)].join('\n')), { jwks });
    expect(badHead.ok).toBe(false);
  });
});

describe('audit: altering one byte of a stored event is found by check-store and by verify, naming its position', () => {
  const cli = (dataDir: string, ...args: string[]) => spawnSync(process.execPath, [AUDIT_CLI, ...args], { cwd: ROOT, env: { ...process.env, DATA_DIR: dataDir }, encoding: 'utf8' });

  /** Flips one character of a stored event's data in a SQLite file; returns a function that puts it back. */
  function alterOneByte(file: string, table: string, column: string, positionColumn: string, position: number, from: string, to: string): () => void {
    const db = new Database(file);
    try {
      const [before] = db.prepare(`SELECT ${column} AS v FROM ${table} WHERE ${positionColumn} = ?`).all(position) as { v: string }[];
      const altered = before!.v.replace(from, to);
      expect(altered).not.toBe(before!.v);
      expect(Buffer.byteLength(altered)).toBe(Buffer.byteLength(before!.v));
      db.prepare(`UPDATE ${table} SET ${column} = ? WHERE ${positionColumn} = ?`).run(altered, position);
      return () => {
        const again = new Database(file);
        again.prepare(`UPDATE ${table} SET ${column} = ? WHERE ${positionColumn} = ?`).run(before!.v, position);
        again.close();
      };
    } finally {
      db.close();
    }
  }

  it('in the event store file, and in the audit store', async () => {
    let t = await startEmbeddedApp({ AUDIT_TREE_HEAD_EVERY_EVENTS: '4' });
    const dataDir = t.dataDir;
    for (let i = 1; i <= 4; i++) expect((await t.http('POST', '/v1/orders', order(`SO-${i}`, i % 2 ? 'acme' : 'globex', [{ lineId: '10', sku: 'ANL-PRO', quantity: i, action: 'new' }]))).status).toBe(201);
    await t.auditAtHead();
    const granted = (await t.http('GET', '/v1/audit/history?customerId=globex&types=EntitlementGranted')).body.items[0];
    const jwks = (await t.http('GET', '/.well-known/jwks.json', undefined, { authorization: '' })).body;
    await t.close(true);

    const clean = cli(dataDir, 'check-store');
    expect([clean.status, clean.stdout]).toEqual([0, expect.stringContaining('consistent')]);

    // 1. The event store file: "globex" becomes "globey" in one event's data.
    const restoreLedger = alterOneByte(join(dataDir, 'events.db'), 'events', 'data', 'position', granted.position, 'globex', 'globey');
    const found = cli(dataDir, 'check-store');
    expect(found.status).toBe(1);
    expect(found.stdout).toContain(`event store: altered at position ${granted.position}`);
    t = await startEmbeddedApp({}, dataDir);
    let report = await verifyExport(linesOf((await t.http('GET', '/v1/audit/export')).body as string), { jwks });
    expect(report.ok).toBe(false);
    expect(report.failure!.position).toBe(granted.position);
    await t.close(true);
    restoreLedger();

    // 2. The audit store: the same byte in its copy of the event.
    alterOneByte(join(dataDir, 'audit.db'), 'au_leaves', 'entry', 'position', granted.position, 'globex', 'globey');
    const foundAudit = cli(dataDir, 'check-store');
    expect(foundAudit.status).toBe(1);
    expect(foundAudit.stdout).toContain(`audit store: altered at position ${granted.position}`);
    t = await startEmbeddedApp({}, dataDir);
    const exported = (await t.http('GET', '/v1/audit/export')).body as string;
    report = await verifyExport(linesOf(exported), { jwks });
    expect(report.ok).toBe(false);
    expect(report.failure!.position).toBe(granted.position);
    await t.close(true);
    // 3. The history index: a reference deleted from it would hide the event from history queries and customer exports.
    alterOneByte(join(dataDir, 'audit.db'), 'au_leaves', 'entry', 'position', granted.position, 'globey', 'globex'); // the entry as it was
    const index = new Database(join(dataDir, 'audit.db'));
    const leaf = (index.prepare('SELECT leaf_index FROM au_leaves WHERE position = ?').get(granted.position) as { leaf_index: number }).leaf_index;
    index.prepare(`DELETE FROM au_refs WHERE kind = 'customer' AND leaf_index = ?`).run(leaf);
    index.close();
    const hidden = cli(dataDir, 'check-store');
    expect(hidden.status).toBe(1);
    expect(hidden.stdout).toContain(`audit store: altered at position ${granted.position}`);
    expect(hidden.stdout).toContain('missing customer globex');

    // The command line says the same, from the files alone.
    writeFileSync(join(dataDir, 'export.jsonl'), exported);
    writeFileSync(join(dataDir, 'jwks.json'), JSON.stringify(jwks));
    const verified = cli(dataDir, 'verify', join(dataDir, 'export.jsonl'), '--jwks', join(dataDir, 'jwks.json'));
    expect(verified.status).toBe(1);
    expect(verified.stdout).toContain(`NOT VERIFIED at position ${granted.position}`);
    rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);
});
