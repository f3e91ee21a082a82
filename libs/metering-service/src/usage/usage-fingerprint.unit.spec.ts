import { createHash } from 'node:crypto';
import type { UsageEventV1 } from '@el/contracts';
import { canonicalJson, usagePayloadHash } from './usage-fingerprint';

const definition = (e: UsageEventV1) => createHash('sha256').update(canonicalJson({ type: e.type, subject: e.subject, time: e.time, data: e.data })).digest('hex');

describe('usage payload fingerprint', () => {
  it('is the hash of the canonical JSON, for every combination of optional fields, key orders and values', () => {
    const optional = ['entitlementId', 'userId', 'deviceId'] as const;
    let checked = 0;
    for (let mask = 0; mask < 8; mask++) {
      for (const quantity of [0, 1, 2.5, 1e12, 0.1 + 0.2]) {
        for (const text of ['plain', 'with "quotes" and \\ backslash', 'ünïcode ✓', '\u0000ctl']) {
          const data: Record<string, unknown> = { quantity, feature: `f-${text}` };
          optional.forEach((k, i) => mask & (1 << i) && (data[k] = `${k}-${text}`));
          // Keys in reverse order too: the fingerprint does not depend on it.
          for (const d of [data, Object.fromEntries(Object.entries(data).reverse())]) {
            const e = { id: 'x', source: 's', type: `t-${text}`, subject: 'acme', time: '2026-12-01T00:00:00.000Z', data: d } as unknown as UsageEventV1;
            expect(usagePayloadHash(e)).toBe(definition(e));
            checked++;
          }
        }
      }
    }
    expect(checked).toBe(8 * 5 * 4 * 2);
  });

  it('keeps the stored hashes: a known event hashes as before', () => {
    const e = { id: 'u-1', source: 'urn:app', type: 'io.ledger.usage.v1', subject: 'acme', time: '2026-12-01T10:00:00Z', data: { feature: 'api_calls', quantity: 3, userId: 'bob' } } as UsageEventV1;
    expect(usagePayloadHash(e)).toBe(createHash('sha256').update('{"data":{"feature":"api_calls","quantity":3,"userId":"bob"},"subject":"acme","time":"2026-12-01T10:00:00Z","type":"io.ledger.usage.v1"}').digest('hex'));
  });

  it('an explicitly undefined optional field hashes as the generic walk did (in-process callers)', () => {
    const e = { id: 'u-1', source: 'urn:app', type: 't', subject: 'acme', time: '2026-12-01T10:00:00Z', data: { feature: 'api_calls', quantity: 3, userId: undefined } } as unknown as UsageEventV1;
    expect(usagePayloadHash(e)).toBe(definition(e));
  });
});
