import { catalog, meta } from '../__fixtures__/fixtures';
import type { CommandMetadata } from '../shared/envelope';
import { entitlementAsOf, resolveAsOf, type AsOf } from './entitlement.as-of';
import type { EntitlementCommand } from './entitlement.commands';
import { entitlementDecider, foldEntitlement } from './entitlement.decider';
import type { EntitlementEvent } from './entitlement.events';
import type { EntitlementState } from './entitlement.state';

/**
 * given(history).asOf({asOf, recordedAsOf}).then(expected): the history is
 * made by the decider itself, each command recorded at its own time (and
 * effective then, unless it says otherwise), as the ledger would have written it.
 */
type Step = readonly [EntitlementCommand['type'], Record<string, unknown>, { recordedAt: string; effectiveAt?: string }];

function history(...steps: Step[]): EntitlementEvent[] {
  const events: EntitlementEvent[] = [];
  for (const [type, data, when] of steps) {
    const metadata: CommandMetadata = meta({ now: when.recordedAt, ...(when.effectiveAt ? { effectiveAt: when.effectiveAt } : {}) });
    events.push(...entitlementDecider.decide({ type, data, metadata } as EntitlementCommand, foldEntitlement(events)));
  }
  return events;
}

function given(events: readonly EntitlementEvent[]) {
  return {
    asOf(at: AsOf) {
      const answer = entitlementAsOf(events, at);
      return {
        then(expected: { status: Exclude<EntitlementState['status'], 'none'> } & Record<string, unknown>, revision?: number) {
          expect(answer.state).toMatchObject(expected);
          if (revision !== undefined) expect(answer.revision).toBe(revision);
        },
        thenNothing(revision: number) {
          expect(answer.state).toEqual({ status: 'none' });
          expect(answer.revision).toBe(revision);
        },
      };
    },
  };
}

const at = (asOf: string, recordedAsOf = '2030-01-01T00:00:00.000Z'): AsOf => ({ asOf, recordedAsOf });
const grant = (sku = 'ANL-PRO', extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  entitlementId: 'ent-1',
  customerId: 'cust-1',
  catalog,
  sku,
  quantity: 1,
  origin: { kind: 'manual' },
  ...extra,
});

// ANL-PRO: 12 months from the grant, 14 days' grace. Everything below happens in 2026.
const JAN = '2026-01-01T00:00:00.000Z';
const FEB = '2026-02-01T00:00:00.000Z';
const MAR = '2026-03-01T00:00:00.000Z';
const APR = '2026-04-01T00:00:00.000Z';
const MAY = '2026-05-01T00:00:00.000Z';

describe('entitlementAsOf', () => {
  describe('resolving the question', () => {
    it('defaults recordedAsOf to now and asOf to recordedAsOf, normalising offsets to UTC', () => {
      const now = '2026-06-01T12:00:00.000Z';
      expect(resolveAsOf({}, now)).toEqual({ asOf: now, recordedAsOf: now });
      expect(resolveAsOf({ asOf: '2026-03-01T02:00:00+02:00' }, now)).toEqual({ asOf: MAR, recordedAsOf: now });
      expect(resolveAsOf({ recordedAsOf: '2026-03-01T00:00:00Z' }, now)).toEqual({ asOf: MAR, recordedAsOf: MAR });
      expect(resolveAsOf({ asOf: JAN, recordedAsOf: MAR }, now)).toEqual({ asOf: JAN, recordedAsOf: MAR });
    });
  });

  describe('the fold', () => {
    it('given everything recorded and in effect, answers what the current fold answers', () => {
      const events = history(
        ['GrantEntitlement', grant(), { recordedAt: JAN }],
        ['AssignSeat', { userId: 'ann' }, { recordedAt: FEB }],
        ['AttachAddOn', { catalog, sku: 'ANL-AI', quantity: 1 }, { recordedAt: MAR }],
      );
      expect(entitlementAsOf(events, at(APR))).toEqual({ state: foldEntitlement(events), revision: 2 });
    });

    it('given no event recorded by recordedAsOf, the entitlement does not exist', () => {
      given(history(['GrantEntitlement', grant(), { recordedAt: FEB }])).asOf(at(MAR, JAN)).thenNothing(-1);
    });
  });

  describe('an upgrade', () => {
    const events = history(['GrantEntitlement', grant('ANL-PRO'), { recordedAt: JAN }], ['ChangePlan', { catalog, sku: 'ANL-ENT', quantity: 1, direction: 'upgrade' }, { recordedAt: MAR }]);

    it('before the change shows the old plan, after it the new one', () => {
      given(events).asOf(at(FEB)).then({ status: 'active', planId: 'pro', tier: 1, updatedAt: JAN }, 1);
      given(events).asOf(at(MAR)).then({ status: 'active', planId: 'enterprise', tier: 2, seats: 10, updatedAt: MAR }, 1);
    });

    it('as recorded before the change, shows the old plan even at a time after it', () => {
      given(events).asOf(at(APR, FEB)).then({ status: 'active', planId: 'pro' }, 0);
    });

    it('a back-dated upgrade (recorded in April, effective in February) is in force in March as recorded since, not as recorded before', () => {
      const backDated = history(['GrantEntitlement', grant('ANL-PRO'), { recordedAt: JAN }], ['ChangePlan', { catalog, sku: 'ANL-ENT' }, { recordedAt: APR, effectiveAt: FEB }]);
      given(backDated).asOf(at(MAR)).then({ status: 'active', planId: 'enterprise' }, 1);
      given(backDated).asOf(at(MAR, MAR)).then({ status: 'active', planId: 'pro' }, 0);
      given(backDated).asOf(at(JAN)).then({ status: 'active', planId: 'pro' }, 1);
    });
  });

  describe('a back-dated grant', () => {
    it('from an order effective in January but recorded in March: in force in February as recorded since, unknown as recorded before', () => {
      const events = history(['GrantEntitlement', grant(), { recordedAt: MAR, effectiveAt: JAN }]);
      given(events).asOf(at(FEB, MAR)).then({ status: 'active', validFrom: JAN }, 0);
      given(events).asOf(at(FEB, FEB)).thenNothing(-1);
      given(events).asOf(at('2025-12-31T00:00:00.000Z', MAR)).thenNothing(0);
    });

    it('by hand (validFrom January, recorded and effective in March): in force from January', () => {
      const events = history(['GrantEntitlement', grant('ANL-PRO', { validFrom: JAN }), { recordedAt: MAR }]);
      given(events).asOf(at(FEB)).then({ status: 'active', validFrom: JAN, grantedAt: MAR }, 0);
      given(events).asOf(at(FEB, FEB)).thenNothing(-1);
    });

    it('dated to start later is not in force before it starts, though recorded', () => {
      const events = history(['GrantEntitlement', grant('ANL-PRO', { validFrom: APR }), { recordedAt: JAN }]);
      given(events).asOf(at(FEB)).thenNothing(0);
      given(events).asOf(at(APR)).then({ status: 'active', validFrom: APR }, 0);
    });
  });

  describe('a suspension and its reinstatement', () => {
    const events = history(
      ['GrantEntitlement', grant(), { recordedAt: JAN }],
      ['SuspendEntitlement', { reason: 'unpaid' }, { recordedAt: FEB }],
      ['ReinstateEntitlement', { reason: 'paid' }, { recordedAt: APR }],
    );

    it('is active before, suspended between, active again after', () => {
      given(events).asOf(at(JAN)).then({ status: 'active' });
      given(events).asOf(at(MAR)).then({ status: 'suspended', suspendedReason: 'unpaid', suspendedAt: FEB });
      given(events).asOf(at(MAY)).then({ status: 'active', updatedAt: APR });
    });

    it('as recorded before the reinstatement, still suspended after it', () => {
      given(events).asOf(at(MAY, MAR)).then({ status: 'suspended' }, 1);
    });
  });

  describe('a revocation', () => {
    const events = history(['GrantEntitlement', grant(), { recordedAt: JAN }], ['RevokeEntitlement', { reason: 'fraud' }, { recordedAt: MAR }]);

    it('is active before it and revoked from it on', () => {
      given(events).asOf(at(FEB)).then({ status: 'active' });
      given(events).asOf(at(MAR)).then({ status: 'revoked', revokedReason: 'fraud', revokedAt: MAR });
      given(events).asOf(at('2028-01-01T00:00:00.000Z')).then({ status: 'revoked' });
    });

    it('as recorded before it, is active', () => {
      given(events).asOf(at(APR, FEB)).then({ status: 'active' }, 0);
    });
  });

  describe('the lapse of time', () => {
    // Granted 2026-01-01 for 12 months: valid until 2027-01-01, grace until 2027-01-15.
    const events = history(['GrantEntitlement', grant(), { recordedAt: JAN }]);
    const GRACE_ENDS = '2027-01-15T00:00:00.000Z';

    it('is active through the grace period and expired from its end, though no expiry was recorded', () => {
      given(events).asOf(at('2027-01-14T23:59:59.999Z')).then({ status: 'active', validUntil: '2027-01-01T00:00:00.000Z' });
      given(events).asOf(at(GRACE_ENDS)).then({ status: 'expired', expiredAt: GRACE_ENDS, updatedAt: GRACE_ENDS }, 0);
    });

    it('expires a suspended entitlement too, but never a revoked or a perpetual one', () => {
      const suspended = history(['GrantEntitlement', grant(), { recordedAt: JAN }], ['SuspendEntitlement', { reason: 'x' }, { recordedAt: FEB }]);
      given(suspended).asOf(at(GRACE_ENDS)).then({ status: 'expired' });
      const revoked = history(['GrantEntitlement', grant(), { recordedAt: JAN }], ['RevokeEntitlement', { reason: 'x' }, { recordedAt: FEB }]);
      given(revoked).asOf(at(GRACE_ENDS)).then({ status: 'revoked' });
      const perpetual = history(['GrantEntitlement', grant('ANL-FREE'), { recordedAt: JAN }]);
      given(perpetual).asOf(at('2099-01-01T00:00:00.000Z')).then({ status: 'active', validUntil: null });
    });

    it('keeps the expiry the sweep recorded, and a later renewal reactivates', () => {
      const renewed = history(
        ['GrantEntitlement', grant(), { recordedAt: JAN }],
        ['ExpireEntitlement', {}, { recordedAt: '2027-01-20T00:00:00.000Z' }],
        ['RenewEntitlement', { periods: 1 }, { recordedAt: '2027-02-01T00:00:00.000Z' }],
      );
      given(renewed).asOf(at('2027-01-16T00:00:00.000Z')).then({ status: 'expired', expiredAt: GRACE_ENDS });
      given(renewed).asOf(at('2027-01-25T00:00:00.000Z')).then({ status: 'expired', expiredAt: '2027-01-20T00:00:00.000Z' });
      given(renewed).asOf(at('2027-03-01T00:00:00.000Z')).then({ status: 'active', validUntil: '2028-02-01T00:00:00.000Z' });
    });
  });
});
