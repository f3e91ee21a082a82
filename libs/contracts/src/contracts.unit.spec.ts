import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  decideEntitlement,
  ENTITLEMENT_EVENT_TYPES,
  evolveEntitlement,
  initialEntitlementState,
  parseCatalog,
  type CommandMetadata,
  type EntitlementCommand,
  type EntitlementEvent,
  type EntitlementState,
  type PublishedCatalog,
} from '@el/domain';
import { deadLetterV1, dlqTopicOf } from './dead-letter.v1';
import { ENTITLEMENT_EVENT_TYPES_V1, toEntitlementEventV1 } from './entitlement-event.v1';
import Ajv from 'ajv';
import { catalogMessageV1, catalogPublishedSchemaV1, entitlementEventSchemaV1, entitlementMessageV1, isControlMessage, watermarkMessageV1, watermarkSchemaV1 } from './entitlements-topic.v1';
import { CATALOG_PUBLISHED_TYPE } from './catalog-published.v1';
import { decisionRecordMessageV1, decisionRecordSchemaV1, decisionRecordV1 } from './decision-record.v1';
import { checkBatchResponseSchemaV1, checkResponseSchemaV1 } from './check-api.v1';
import { COMPACTED_TOPICS, LEDGER_SOURCE, TOPICS } from './topics';
import { usageCountersMessageV1, usageCountersSchemaV1, usageCountersV1 } from './usage-counters.v1';
import { WATERMARK_TYPE, watermarkV1, WatermarkTracker } from './watermark.v1';
import { subjectFromV1 } from './entitlement-event.v1';
import { check, subjectOf } from '@el/domain';

const parsed = parseCatalog(parse(readFileSync(join(__dirname, '..', '..', '..', 'catalog', 'sample-catalog.yaml'), 'utf8')));
if (!parsed.ok) throw new Error('catalog');
const catalog: PublishedCatalog = { version: 3, hash: 'h', catalog: parsed.catalog };
const meta = (i: number): CommandMetadata => ({ now: `2026-05-0${i}T00:00:00.000Z`, correlationId: 'corr-7', causationId: 'c', actor: { type: 'operator', id: 'alice' }, source: 'portal' });

/** Runs commands through the decider and maps every event: given commands → integration events. */
function publish(...commands: ((m: CommandMetadata) => EntitlementCommand)[]) {
  let state: EntitlementState = initialEntitlementState;
  let revision = -1;
  return commands.flatMap((c, i) => {
    const events = decideEntitlement(c(meta(i + 1)), state);
    return events.map((event: EntitlementEvent) => {
      state = evolveEntitlement(state, event);
      revision += 1;
      if (state.status === 'none') throw new Error('no state');
      return toEntitlementEventV1({ id: `ev-${revision}`, position: 100 + revision, revision, recordedAt: `2026-05-0${i + 1}T00:00:01.000Z`, event }, state);
    });
  });
}

describe('ledger.entitlements.v1', () => {
  const grant = (m: CommandMetadata): EntitlementCommand => ({ type: 'GrantEntitlement', data: { entitlementId: 'e1', customerId: 'acme', catalog, sku: 'DSG-PRO', quantity: 2, origin: { kind: 'manual' } }, metadata: m });

  it('has a versioned type for every internal entitlement event', () => {
    expect(Object.keys(ENTITLEMENT_EVENT_TYPES_V1).sort()).toEqual([...ENTITLEMENT_EVENT_TYPES].sort());
    for (const t of Object.values(ENTITLEMENT_EVENT_TYPES_V1)) expect(t).toMatch(/^io\.ledger\.entitlement\.[a-z_]+\.v1$/);
  });

  it('maps a grant to a CloudEvent with the full state after the change', () => {
    const [granted] = publish(grant);
    expect(granted).toEqual({
      specversion: '1.0',
      id: 'ev-0',
      type: 'io.ledger.entitlement.granted.v1',
      source: LEDGER_SOURCE,
      subject: 'e1',
      time: '2026-05-01T00:00:01.000Z',
      datacontenttype: 'application/json',
      position: 100,
      customerid: 'acme',
      correlationid: 'corr-7',
      data: {
        entitlement: expect.objectContaining({ entitlementId: 'e1', customerId: 'acme', productId: 'designer', planSku: 'DSG-PRO', catalogVersion: 3, status: 'active', seats: 2, deviceLimit: 4, revision: 0, assignedUsers: [], addOns: [] }),
        change: { planSku: 'DSG-PRO', seats: 2, origin: { kind: 'manual' } },
        effectiveAt: '2026-05-01T00:00:00.000Z',
        actor: { type: 'operator', id: 'alice' },
        origin: 'portal',
      },
    });
    expect(granted!.data.entitlement.features['render_minutes']).toEqual({ meter: { period: 'month', cap: 600, capType: 'hard' } });
  });

  it('carries what changed and the state after it for every kind of change', () => {
    const events = publish(
      grant,
      (m) => ({ type: 'AssignSeat', data: { userId: 'bob' }, metadata: m }),
      (m) => ({ type: 'ActivateDevice', data: { deviceId: 'mac', userId: 'bob' }, metadata: m }),
      (m) => ({ type: 'ChangePlan', data: { catalog, sku: 'DSG-ENT', quantity: 1 }, metadata: m }),
      (m) => ({ type: 'SuspendEntitlement', data: { reason: 'unpaid' }, metadata: m }),
      (m) => ({ type: 'ReleaseSeat', data: { userId: 'bob' }, metadata: m }),
      (m) => ({ type: 'RevokeEntitlement', data: { reason: 'closed' }, metadata: m }),
    );
    expect(events.map((e) => e.type.split('.')[3])).toEqual(['granted', 'seat_assigned', 'device_activated', 'plan_changed', 'suspended', 'seat_released', 'device_deactivated', 'revoked']);
    expect(events.map((e) => e.data.entitlement.revision)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(events[1]!.data).toMatchObject({ change: { userId: 'bob' }, entitlement: { assignedUsers: ['bob'] } });
    expect(events[3]!.data).toMatchObject({ change: { fromPlanSku: 'DSG-PRO', toPlanSku: 'DSG-ENT', direction: 'upgrade', delta: { added: [], removed: [] } }, entitlement: { planId: 'enterprise', seats: 5 } });
    expect(events[4]!.data.entitlement).toMatchObject({ status: 'suspended', statusReason: 'unpaid' });
    expect(events[6]!.data).toMatchObject({ change: { deviceId: 'mac' }, entitlement: { devices: [] } });
    expect(events[7]!.data.entitlement).toMatchObject({ status: 'revoked', statusReason: 'closed' });
    // Every message of one customer shares the key: customerid.
    expect(new Set(events.map((e) => e.customerid))).toEqual(new Set(['acme']));
  });

  it('publishes exactly what its documented schemas say: changes keyed by customer, watermarks marked as control messages', () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validChange = ajv.compile(entitlementEventSchemaV1);
    const validWatermark = ajv.compile(watermarkSchemaV1);
    const changes = publish(
      grant,
      (m) => ({ type: 'AssignSeat', data: { userId: 'bob' }, metadata: m }),
      (m) => ({ type: 'ActivateDevice', data: { deviceId: 'mac', userId: 'bob' }, metadata: m }),
      (m) => ({ type: 'ChangeSeats', data: { seats: 4 }, metadata: m }),
      (m) => ({ type: 'RenewEntitlement', data: { periods: 1 }, metadata: m }),
      (m) => ({ type: 'RevokeEntitlement', data: { reason: 'closed' }, metadata: m }),
    ).map(entitlementMessageV1);
    for (const m of changes) {
      expect({ type: m.value.type, errors: validChange(m.value) ? null : validChange.errors }).toEqual({ type: m.value.type, errors: null });
      expect(m).toMatchObject({ key: 'acme', id: m.value.id, headers: { ce_id: m.value.id, ce_type: m.value.type } });
      expect(isControlMessage(m.headers)).toBe(false);
    }
    const w = watermarkMessageV1(107, 2, 6, '2026-05-07T00:00:01.000Z');
    expect(validWatermark(w.value)).toBe(true);
    expect(w).toMatchObject({ key: 'watermark', partition: 2, headers: { ce_type: WATERMARK_TYPE, ledger_control: 'watermark' } });
    expect(isControlMessage(w.headers)).toBe(true);
    // The schemas are strict: a field the contract does not document is caught.
    expect(validChange({ ...changes[0]!.value, extra: 1 })).toBe(false);
    expect(validWatermark(changes[0]!.value)).toBe(false);
  });
});

describe('catalog versions on ledger.entitlements.v1', () => {
  it('are control messages, one per partition with its own id, carrying the catalog and the position it is in force from', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(catalogPublishedSchemaV1);
    const stored = { position: 41, recordedAt: '2026-05-01T00:00:00.000Z', version: 3, hash: 'abc', label: catalog.catalog.label, catalog: catalog.catalog };
    const messages = [0, 1, 2].map((p) => catalogMessageV1(stored, p));
    expect(messages.map((m) => [m.partition, m.id, m.key])).toEqual([
      [0, 'catalog:3:0', 'catalog'],
      [1, 'catalog:3:1', 'catalog'],
      [2, 'catalog:3:2', 'catalog'],
    ]);
    for (const m of messages) {
      expect({ errors: validate(m.value) ? null : validate.errors }).toEqual({ errors: null });
      expect(m.headers).toMatchObject({ ce_id: m.id, ce_type: CATALOG_PUBLISHED_TYPE, ledger_control: 'catalog' });
      expect(isControlMessage(m.headers)).toBe(true);
      expect(m.value).toMatchObject({ position: 41, subject: 'catalog', data: { version: 3, hash: 'abc', label: '2026-11 sample', catalog: catalog.catalog } });
    }
    expect(validate({ ...messages[0]!.value, data: { ...messages[0]!.value.data, version: 0 } })).toBe(false);
    expect(validate({ ...messages[0]!.value, extra: true })).toBe(false);
  });
});

describe('enforcement.decisions.v1', () => {
  const validate = new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(decisionRecordSchemaV1);
  const record = decisionRecordV1({
    id: 'd-1',
    request: { customerId: 'acme', feature: 'api_calls', quantity: 5, userId: 'bob' },
    atMs: Date.parse('2026-06-01T00:00:00.000Z'),
    at: '2026-06-01T00:00:00.000Z',
    decidedAt: '2026-06-01T00:00:00.004Z',
    decision: { allowed: false, code: 'USAGE_CAP_REACHED', entitlementId: 'e1', remaining: 2, expiresAt: null, upgradeHint: { kind: 'plan', sku: 'ANL-PRO', name: 'Analytics Pro', productId: 'analytics' }, reason: 'api_calls: 998 of 1000 used, 5 more requested' },
    position: 120,
    catalogVersion: 3,
    stale: false,
    usage: [{ entitlementId: 'e1', feature: 'api_calls', period: 'month', value: 998 }],
  });

  it('is a record its schema documents, keyed by customer', () => {
    expect(TOPICS.decisions).toBe('enforcement.decisions.v1');
    expect({ errors: validate(record) ? null : validate.errors }).toEqual({ errors: null });
    expect(validate({ ...record, catalogVersion: null, usage: [] })).toBe(true);
    expect(decisionRecordMessageV1(record)).toMatchObject({ key: 'acme', id: 'd-1', headers: { ce_id: 'd-1', ce_type: 'io.ledger.enforcement.decision.v1' } });
  });

  it('refuses what the contract does not document or leaves out', () => {
    const { usage: _u, ...withoutUsage } = record;
    for (const bad of [
      withoutUsage,
      { ...record, extra: 1 },
      { ...record, request: { ...record.request, minPosition: 3 } },
      { ...record, decision: { ...record.decision, extra: 1 } },
      { ...record, usage: [{ entitlementId: 'e1', feature: 'api_calls', period: 'week', value: 1 }] },
      { ...record, catalogVersion: 0 },
      { ...record, position: 1.5 },
    ]) {
      expect(validate(bad)).toBe(false);
    }
  });
});

describe('check API responses', () => {
  it('carry the position and the catalog version they were decided at (null before any is known)', () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const one = ajv.compile(checkResponseSchemaV1);
    const batch = ajv.compile(checkBatchResponseSchemaV1);
    const decision = { allowed: true, code: 'OK', entitlementId: 'e1', remaining: null, expiresAt: null, upgradeHint: null, reason: 'ok' };
    expect(one({ ...decision, position: 7, catalogVersion: 2, stale: false })).toBe(true);
    expect(one({ ...decision, position: 7, catalogVersion: null, stale: false })).toBe(true);
    expect(one({ ...decision, position: 7, stale: false })).toBe(false);
    expect(batch({ position: 7, catalogVersion: 2, stale: false, results: [decision] })).toBe(true);
    expect(batch({ position: 7, stale: false, results: [decision] })).toBe(false);
  });
});

describe('dead letters', () => {
  it('keeps the original bytes, position and reason', () => {
    const bytes = Buffer.from([0xff, 0x00, 0x7b]);
    const dl = deadLetterV1({
      consumerGroup: 'ledger-erp-orders',
      reason: { code: 'MESSAGE.UNPARSEABLE', message: 'not JSON' },
      topic: TOPICS.erpOrders,
      partition: 2,
      offset: '17',
      key: 'SO-1',
      timestamp: '2026-01-01T00:00:00.000Z',
      headers: { 'x-source': 'sap' },
      value: bytes,
      now: new Date('2026-01-02T00:00:00.000Z'),
    });
    expect(dl).toMatchObject({ kind: 'dead-letter.v1', original: { topic: 'erp.orders.v1', partition: 2, offset: '17', key: 'SO-1' } });
    expect(Buffer.from(dl.original.valueBase64!, 'base64')).toEqual(bytes);
    expect(dlqTopicOf(TOPICS.erpOrders)).toBe(TOPICS.erpOrdersDlq);
  });
});

describe('watermarks', () => {
  it('are safe only once every partition has reported, and then the lowest', () => {
    const t = new WatermarkTracker();
    expect(t.observe(watermarkV1(10, 0, 3, 'now').data)).toBe(0);
    expect(t.observe(watermarkV1(12, 1, 3, 'now').data)).toBe(0);
    expect(t.observe(watermarkV1(11, 2, 3, 'now').data)).toBe(10);
    expect(t.observe(watermarkV1(20, 0, 3, 'now').data)).toBe(11);
    expect(t.observe(watermarkV1(5, 2, 3, 'now').data)).toBe(11); // an older watermark never moves it back
    expect(new WatermarkTracker(t.snapshot()).position()).toBe(11);
    expect(watermarkV1(7, 1, 3, 'now').id).toBe('watermark:7:1');
  });
});

describe('checking against the published state', () => {
  it('decides exactly as against the domain state', () => {
    let state: EntitlementState = initialEntitlementState;
    for (const c of [
      (m: CommandMetadata): EntitlementCommand => ({ type: 'GrantEntitlement', data: { entitlementId: 'e1', customerId: 'acme', catalog, sku: 'ANL-FREE', quantity: 1, origin: { kind: 'manual' } }, metadata: m }),
      (m: CommandMetadata): EntitlementCommand => ({ type: 'AssignSeat', data: { userId: 'bob' }, metadata: m }),
    ]) state = decideEntitlement(c(meta(1)), state).reduce(evolveEntitlement, state);
    if (state.status === 'none') throw new Error('none');
    const fromDomain = subjectOf(state);
    const [published] = publish((m) => ({ type: 'GrantEntitlement', data: { entitlementId: 'e1', customerId: 'acme', catalog, sku: 'ANL-FREE', quantity: 1, origin: { kind: 'manual' } }, metadata: m }), (m) => ({ type: 'AssignSeat', data: { userId: 'bob' }, metadata: m })).slice(-1);
    const fromV1 = subjectFromV1(published!.data.entitlement);
    for (const request of [
      { feature: 'dashboards', userId: 'bob' },
      { feature: 'dashboards', userId: 'eve' },
      { feature: 'sso' },
      { feature: 'api_calls', quantity: 2000 },
      { feature: 'projects', region: 'APAC' },
    ]) {
      const r = { customerId: 'acme', at: '2026-06-01T00:00:00.000Z', ...request };
      expect(check([fromV1], r, { catalog: catalog.catalog })).toEqual(check([fromDomain], r, { catalog: catalog.catalog }));
    }
  });
});

describe('metering.counters.v1', () => {
  it('is compacted and keyed by customer; a message is the customer state its schema documents', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(usageCountersSchemaV1);
    const value = usageCountersV1('acme', 42, [{ entitlementId: 'e-1', feature: 'render_minutes', periodStart: '2026-11-14T09:30:00.000Z', value: 600 }], '2026-12-01T00:00:00.000Z');
    const m = usageCountersMessageV1(value);
    expect(COMPACTED_TOPICS.has(TOPICS.usageCounters)).toBe(true);
    expect(m).toMatchObject({ key: 'acme', id: 'acme:42', headers: { ce_id: 'acme:42', ce_type: 'io.ledger.usage.counters.v1' } });
    expect(validate(m.value)).toBe(true);
    expect(validate({ ...value, position: 0 })).toBe(false);
    expect(validate({ ...value, counters: [{ ...value.counters[0], extra: 1 }] })).toBe(false);
  });
});
