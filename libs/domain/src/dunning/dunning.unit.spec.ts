import { deciderSpec } from '@el/testing';
import { meta, T0 } from '../__fixtures__/fixtures';
import { envelope, type CommandMetadata } from '../shared/envelope';
import {
  decideDunning,
  dunningDecider,
  dunningStatus,
  foldDunning,
  nextDunningStep,
  PAID_INVOICES_KEPT,
  suspensionDueAt,
  type DunningCommand,
  type DunningEvent,
} from './dunning';

const spec = deciderSpec(dunningDecider);
const m = meta({ actor: { type: 'system', id: 'payment-gateway' }, source: 'system' });
const at = (hours: number): string => new Date(Date.parse(T0) + hours * 3_600_000).toISOString();
const metaAt = (hours: number): CommandMetadata => ({ ...m, now: at(hours) });

const failure = (invoiceId: string, gatewayEventId: string, failedAtHours = 0, graceHours = 72, nowHours = failedAtHours): DunningCommand => ({
  type: 'RecordPaymentFailure',
  data: { customerId: 'acme', invoiceId, gatewayEventId, failedAt: at(failedAtHours), graceHours },
  metadata: metaAt(nowHours),
});
const paid = (invoiceId: string, gatewayEventId: string, hours = 1): DunningCommand => ({
  type: 'RecordInvoicePaid',
  data: { customerId: 'acme', invoiceId, gatewayEventId, paidAt: at(hours) },
  metadata: metaAt(hours),
});
const suspension = (caseId: string, entitlementIds: string[]): DunningCommand => ({ type: 'RecordDunningSuspension', data: { caseId, entitlementIds }, metadata: m });
const reinstatement = (entitlementIds: string[], reinstated = entitlementIds): DunningCommand => ({ type: 'RecordDunningReinstatement', data: { entitlementIds, reinstated }, metadata: m });

/** The events a history of commands produces, each decided on the state the previous ones left. */
function run(...commands: DunningCommand[]): DunningEvent[] {
  const events: DunningEvent[] = [];
  for (const c of commands) events.push(...decideDunning(c, foldDunning(events)));
  return events;
}

describe('Dunning decider', () => {
  it('records a failed payment with the suspension due after the grace', () => {
    spec.given([]).when(failure('in_1', 'evt_1')).then([
      { type: 'InvoicePaymentFailed', data: { customerId: 'acme', invoiceId: 'in_1', gatewayEventId: 'evt_1', failedAt: at(0), suspendAt: at(72) }, metadata: envelope(metaAt(0)) },
    ]);
    const s = foldDunning(run(failure('in_1', 'evt_1')));
    expect({ status: dunningStatus(s), due: suspensionDueAt(s), openCase: s.openCase }).toEqual({ status: 'past_due', due: at(72), openCase: { caseId: 'in_1', suspended: false } });
  });

  it('suspends only once the grace has run out; a grace of 0 suspends at once', () => {
    const s = foldDunning(run(failure('in_1', 'evt_1')));
    expect(nextDunningStep(s, at(71.9))).toBeNull();
    expect(nextDunningStep(s, at(72))).toEqual({ kind: 'suspend', caseId: 'in_1' });
    expect(nextDunningStep(foldDunning(run(failure('in_1', 'evt_1', 0, 0))), at(0))).toEqual({ kind: 'suspend', caseId: 'in_1' });
  });

  it('counts the grace from when the payment failed, never from the future', () => {
    // Heard of 50 hours late: 22 hours of grace are left.
    spec.given([]).when(failure('in_1', 'evt_1', 0, 72, 50)).then((events) => expect(events[0]!.data).toMatchObject({ failedAt: at(0), suspendAt: at(72) }));
    // A failure time after the ledger's clock is taken as now.
    spec.given([]).when(failure('in_1', 'evt_1', 10, 72, 0)).then((events) => expect(events[0]!.data).toMatchObject({ failedAt: at(0), suspendAt: at(72) }));
  });

  it('keeps the grace of the first failure when the gateway retries the same invoice', () => {
    const s = foldDunning(run(failure('in_1', 'evt_1', 0), failure('in_1', 'evt_2', 24)));
    expect(s.unpaid['in_1']).toEqual({ failedAt: at(0), suspendAt: at(72), failures: 2 });
    expect(suspensionDueAt(s)).toBe(at(72));
  });

  it('a payment within the grace closes the case: nothing is suspended', () => {
    const s = foldDunning(run(failure('in_1', 'evt_1'), paid('in_1', 'evt_2', 5)));
    expect({ status: dunningStatus(s), step: nextDunningStep(s, at(1000)), openCase: s.openCase }).toEqual({ status: 'current', step: null, openCase: null });
  });

  it('a case stays open until every failed invoice is paid, and suspends at the earliest due', () => {
    const s = foldDunning(run(failure('in_1', 'evt_1', 0), failure('in_2', 'evt_2', 10), paid('in_1', 'evt_3', 11)));
    expect({ status: dunningStatus(s), due: suspensionDueAt(s), caseId: s.openCase?.caseId }).toEqual({ status: 'past_due', due: at(82), caseId: 'in_1' });
  });

  it('records what a case suspended, once; the case is then suspended', () => {
    const history = run(failure('in_1', 'evt_1'));
    spec.given(history).when(suspension('in_1', ['e1', 'e2', 'e1'])).then([
      { type: 'DunningSuspended', data: { customerId: 'acme', caseId: 'in_1', entitlementIds: ['e1', 'e2'] }, metadata: envelope(m) },
    ]);
    const suspended = [...history, ...decideDunning(suspension('in_1', ['e1', 'e2']), foldDunning(history))];
    expect(dunningStatus(foldDunning(suspended))).toBe('suspended');
    expect(nextDunningStep(foldDunning(suspended), at(1000))).toBeNull();
    spec.given(suspended).when(suspension('in_1', ['e1', 'e2'])).thenNothing();
  });

  it('records a suspension that found nothing to suspend, so that the case does not try again', () => {
    const history = run(failure('in_1', 'evt_1'), suspension('in_1', []));
    expect(history.map((e) => e.type)).toEqual(['InvoicePaymentFailed', 'DunningSuspended']);
    expect(nextDunningStep(foldDunning(history), at(1000))).toBeNull();
  });

  it('after the payment, reinstates what the case suspended and then lets go of it', () => {
    const history = run(failure('in_1', 'evt_1'), suspension('in_1', ['e1', 'e2']), paid('in_1', 'evt_2', 100));
    const s = foldDunning(history);
    expect(dunningStatus(s)).toBe('recovering');
    expect(nextDunningStep(s, at(100))).toEqual({ kind: 'reinstate', entitlements: { e1: 'in_1', e2: 'in_1' } });
    // e2 was reinstated by an operator meanwhile: let go of it without reinstating it.
    spec.given(history).when(reinstatement(['e1', 'e2', 'e9'], ['e1'])).then([
      { type: 'DunningReinstated', data: { customerId: 'acme', entitlementIds: ['e1', 'e2'], reinstated: ['e1'] }, metadata: envelope(m) },
    ]);
    const done = run(failure('in_1', 'evt_1'), suspension('in_1', ['e1', 'e2']), paid('in_1', 'evt_2', 100), reinstatement(['e1', 'e2'], ['e1']));
    expect({ status: dunningStatus(foldDunning(done)), step: nextDunningStep(foldDunning(done), at(100)) }).toEqual({ status: 'current', step: null });
    spec.given(done).when(reinstatement(['e1', 'e2'])).thenNothing();
  });

  it('does not reinstate while another invoice is still unpaid', () => {
    const s = foldDunning(run(failure('in_1', 'evt_1'), failure('in_2', 'evt_2'), suspension('in_1', ['e1']), paid('in_1', 'evt_3', 100)));
    expect({ status: dunningStatus(s), step: nextDunningStep(s, at(100)) }).toEqual({ status: 'suspended', step: null });
  });

  it('a case paid while it was suspending still records what it suspended, to reinstate it', () => {
    const history = run(failure('in_1', 'evt_1', 0, 0), paid('in_1', 'evt_2', 0));
    spec.given(history).when(suspension('in_1', ['e1'])).then((events) => expect(events[0]).toMatchObject({ type: 'DunningSuspended', data: { entitlementIds: ['e1'] } }));
    spec.given(history).when(suspension('in_1', [])).thenNothing();
    const s = foldDunning([...history, ...decideDunning(suspension('in_1', ['e1']), foldDunning(history))]);
    expect(nextDunningStep(s, at(0))).toEqual({ kind: 'reinstate', entitlements: { e1: 'in_1' } });
  });

  it('ignores a failure delivered after the payment of its invoice, and a payment recorded twice', () => {
    const history = run(paid('in_1', 'evt_2', 0));
    spec.given(history).when(failure('in_1', 'evt_1')).thenNothing();
    spec.given(history).when(paid('in_1', 'evt_3')).thenNothing();
    expect(dunningStatus(foldDunning(history))).toBe('current');
  });

  it('remembers a bounded number of paid invoices', () => {
    const history = run(...Array.from({ length: PAID_INVOICES_KEPT + 5 }, (_, i) => paid(`in_${i}`, `evt_${i}`)));
    expect(foldDunning(history).paid).toHaveLength(PAID_INVOICES_KEPT);
    expect(foldDunning(history).paid[0]).toBe('in_5');
  });

  it('a new case after a closed one suspends anew, under its own name', () => {
    const s = foldDunning(run(failure('in_1', 'evt_1'), suspension('in_1', ['e1']), paid('in_1', 'evt_2', 100), reinstatement(['e1']), failure('in_2', 'evt_3', 200)));
    expect(nextDunningStep(s, at(272))).toEqual({ kind: 'suspend', caseId: 'in_2' });
  });
});
