import type { CommandMetadata } from '../shared/envelope';
import { parseCatalog } from '../catalog/parse-catalog';
import type { PublishedCatalog } from '../catalog/catalog';

/** A small catalog that exercises every rule: tiers, seats, devices, regions, limits, meters, add-ons. */
export const catalogDocument = {
  label: 'test',
  products: [
    {
      id: 'analytics',
      name: 'Analytics',
      features: {
        dashboards: { name: 'Dashboards' },
        projects: { name: 'Projects' },
        'reports.export': { name: 'Export' },
        sso: { name: 'SSO' },
        ai: { name: 'AI' },
        api_calls: { name: 'API calls' },
      },
      plans: [
        {
          id: 'free', sku: 'ANL-FREE', name: 'Free', tier: 0, term: 'perpetual', regions: ['EU'],
          features: { dashboards: {}, projects: { limit: 3 }, api_calls: { meter: { period: 'month', cap: 100, capType: 'hard' } } },
        },
        {
          id: 'pro', sku: 'ANL-PRO', name: 'Pro', tier: 1, term: { months: 12 }, graceDays: 14, seatsPerUnit: 1, maxDevicesPerSeat: 2,
          features: {
            dashboards: {}, projects: { limit: 25 }, 'reports.export': {},
            api_calls: { meter: { period: 'month', cap: 1000, capType: 'soft' } },
          },
        },
        {
          id: 'enterprise', sku: 'ANL-ENT', name: 'Enterprise', tier: 2, term: { years: 1 }, graceDays: 30, seatsPerUnit: 10,
          features: {
            dashboards: {}, projects: { limit: 1000 }, 'reports.export': {}, sso: {},
            api_calls: { meter: { period: 'month', cap: 100000, capType: 'soft' } },
          },
        },
      ],
    },
    {
      id: 'vault',
      name: 'Vault',
      features: { secrets: { name: 'Secrets' }, hsm: { name: 'HSM' } },
      plans: [
        { id: 'pro', sku: 'VLT-PRO', name: 'Vault Pro', tier: 1, term: { months: 1 }, features: { secrets: { limit: 10 } } },
        { id: 'enterprise', sku: 'VLT-ENT', name: 'Vault Enterprise', tier: 2, term: { months: 1 }, features: { secrets: { limit: 100 }, hsm: {} } },
      ],
    },
  ],
  addOns: [
    { id: 'ai', sku: 'ANL-AI', name: 'AI add-on', product: 'analytics', features: { ai: {} } },
    { id: 'api-10k', sku: 'ANL-API-10K', name: '+10k API calls', product: 'analytics', features: { api_calls: { meter: { cap: 10000 } } } },
  ],
};

const parsed = parseCatalog(catalogDocument);
if (!parsed.ok) throw new Error(`fixture catalog invalid: ${JSON.stringify(parsed.issues)}`);
export const catalog: PublishedCatalog = { version: 1, hash: 'fixture', catalog: parsed.catalog };

export const T0 = '2026-01-15T10:00:00.000Z';

export function meta(overrides: Partial<CommandMetadata> = {}): CommandMetadata {
  return {
    now: T0,
    correlationId: 'corr-1',
    causationId: 'cause-1',
    actor: { type: 'operator', id: 'op-1' },
    source: 'api',
    ...overrides,
  };
}
