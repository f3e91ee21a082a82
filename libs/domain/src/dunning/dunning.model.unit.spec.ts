import fc from 'fast-check';
import { expectEqual, propertyParams } from '@el/testing';
import { meta, T0 } from '../__fixtures__/fixtures';
import type { CommandMetadata } from '../shared/envelope';
import { decideDunning, dunningStatus, evolveDunning, initialDunningState, nextDunningStep, suspensionDueAt, type DunningCommand, type DunningEvent, type DunningState } from './dunning';

/**
 * Model-based test of dunning: payment failures and payments arriving late,
 * twice and out of order, time passing, operators suspending and reinstating
 * on their own, and the dunning process carrying out each step as
 * dunning-process.ts does (and replaying its last record, as after a crash).
 * The reference model is the rule book of libs/domain/README.md: suspend once
 * the grace after an invoice's first failure has run out with it unpaid, at
 * most once per case; after the last unpaid invoice is paid, reinstate exactly
 * what dunning suspended and nothing an operator did. Seeds: libs/testing/src/property.ts.
 */

const HOUR = 3_600_000;
const at = (hours: number) => new Date(Date.parse(T0) + hours * HOUR).toISOString();
const INVOICES = ['in_1', 'in_2', 'in_3'];
const ENTITLEMENTS = ['e1', 'e2', 'e3'];

type Action =
  | { readonly do: 'advance'; readonly hours: number }
  | { readonly do: 'fail'; readonly invoiceId: string; readonly failedHoursAgo: number; readonly graceHours: number }
  | { readonly do: 'paid'; readonly invoiceId: string }
  | { readonly do: 'step' }
  | { readonly do: 'replayLastRecord' }
  | { readonly do: 'operatorSuspends'; readonly entitlementId: string }
  | { readonly do: 'operatorReinstates'; readonly entitlementId: string };

/** An entitlement of the customer, and who holds it suspended: a dunning case (its id), an operator, or nobody. */
type World = Record<string, { readonly heldBy: string | null }>;

interface Model {
  readonly hours: number;
  /** Unpaid invoices → when the suspension is due (first failure + its grace, in hours). */
  readonly unpaid: Readonly<Record<string, number>>;
  readonly paid: readonly string[];
  readonly openCase: { readonly caseId: string; readonly suspended: boolean } | null;
  /** Entitlements dunning suspended and has not let go. */
  readonly held: readonly string[];
}

function run(actions: readonly Action[]): void {
  let model: Model = { hours: 0, unpaid: {}, paid: [], openCase: null, held: [] };
  let state: DunningState = initialDunningState;
  let world: World = Object.fromEntries(ENTITLEMENTS.map((e) => [e, { heldBy: null }]));
  let lastRecord: DunningCommand | null = null;
  /** The case that suspended each entitlement dunning holds. */
  let heldCase: Record<string, string> = {};
  const metaNow = (): CommandMetadata => meta({ now: at(model.hours), actor: { type: 'system', id: 'dunning' }, source: 'system' });
  const decide = (c: DunningCommand): DunningEvent[] => {
    const events = decideDunning(c, state);
    state = events.reduce(evolveDunning, state);
    return events;
  };

  for (const [i, a] of actions.entries()) {
    const where = () => `step ${i} ${JSON.stringify(a)} at +${model.hours}h\nmodel: ${JSON.stringify(model)}\nworld: ${JSON.stringify(world)}`;
    switch (a.do) {
      case 'advance':
        model = { ...model, hours: model.hours + a.hours };
        break;
      case 'fail': {
        const events = decide({
          type: 'RecordPaymentFailure',
          data: { customerId: 'acme', invoiceId: a.invoiceId, gatewayEventId: `evt_f${i}`, failedAt: at(model.hours - a.failedHoursAgo), graceHours: a.graceHours },
          metadata: metaNow(),
        });
        if (model.paid.includes(a.invoiceId)) {
          // A failure delivered after its invoice's payment changes nothing.
          expectEqual(events, [], where);
          break;
        }
        // Retries keep the grace of the first failure, counted from when it happened (never from the future).
        const due = model.unpaid[a.invoiceId] ?? Math.min(model.hours - a.failedHoursAgo, model.hours) + a.graceHours;
        expectEqual(
          events.map((e) => [e.type, e.type === 'InvoicePaymentFailed' ? e.data.suspendAt : null]),
          [['InvoicePaymentFailed', at(due)]],
          where,
        );
        model = { ...model, unpaid: { ...model.unpaid, [a.invoiceId]: due }, openCase: model.openCase ?? { caseId: a.invoiceId, suspended: false } };
        break;
      }
      case 'paid': {
        const events = decide({ type: 'RecordInvoicePaid', data: { customerId: 'acme', invoiceId: a.invoiceId, gatewayEventId: `evt_p${i}`, paidAt: at(model.hours) }, metadata: metaNow() });
        if (model.paid.includes(a.invoiceId)) {
          expectEqual(events, [], where);
          break;
        }
        const { [a.invoiceId]: _paid, ...unpaid } = model.unpaid;
        // Everything paid: the case is closed, a pending suspension is off.
        model = { ...model, unpaid, paid: [...model.paid, a.invoiceId], openCase: Object.keys(unpaid).length === 0 ? null : model.openCase };
        break;
      }
      case 'step': {
        // The process, as dunning-process.ts carries out whatever is due.
        const step = nextDunningStep(state, at(model.hours));
        if (step?.kind === 'suspend') {
          const live = ENTITLEMENTS.filter((e) => world[e]!.heldBy === null || world[e]!.heldBy === step.caseId);
          world = { ...world, ...Object.fromEntries(live.map((e) => [e, { heldBy: step.caseId }])) };
          lastRecord = { type: 'RecordDunningSuspension', data: { caseId: step.caseId, entitlementIds: live }, metadata: metaNow() };
          decide(lastRecord);
          const added = live.filter((e) => !model.held.includes(e));
          heldCase = { ...heldCase, ...Object.fromEntries(added.map((e) => [e, step.caseId])) };
          model = { ...model, openCase: model.openCase?.caseId === step.caseId ? { ...model.openCase, suspended: true } : model.openCase, held: [...model.held, ...added] };
          // At most once per case: the same case is never due again.
          expectEqual(nextDunningStep(state, at(model.hours))?.kind === 'suspend', false, where);
        } else if (step?.kind === 'reinstate') {
          // Exactly what dunning suspended, each with the case that did: so that the process can leave alone
          // what an operator has suspended again since (the world's heldBy below).
          expectEqual(step.entitlements, Object.fromEntries(model.held.map((e) => [e, heldCase[e]!])), where);
          const reinstated = Object.entries(step.entitlements).filter(([e, caseId]) => world[e]!.heldBy === caseId).map(([e]) => e);
          world = { ...world, ...Object.fromEntries(reinstated.map((e) => [e, { heldBy: null }])) };
          lastRecord = { type: 'RecordDunningReinstatement', data: { entitlementIds: Object.keys(step.entitlements), reinstated }, metadata: metaNow() };
          decide(lastRecord);
          model = { ...model, held: [] };
          heldCase = {};
        }
        break;
      }
      case 'replayLastRecord':
        // A process that crashed after recording repeats its record: nothing new.
        if (lastRecord) expectEqual(decide(lastRecord), [], where);
        break;
      case 'operatorSuspends':
        if (world[a.entitlementId]!.heldBy === null) world = { ...world, [a.entitlementId]: { heldBy: 'operator' } };
        break;
      case 'operatorReinstates':
        world = { ...world, [a.entitlementId]: { heldBy: null } };
        break;
    }

    // The decider's state against the model, after every step.
    const expectedStatus =
      Object.keys(model.unpaid).length > 0 ? (model.openCase?.suspended ? 'suspended' : 'past_due') : model.held.length > 0 ? 'recovering' : 'current';
    const dueHours = expectedStatus === 'past_due' ? Math.min(...Object.values(model.unpaid)) : null;
    expectEqual(
      { status: dunningStatus(state), due: suspensionDueAt(state), openCase: state.openCase, held: Object.keys(state.suspended).sort() },
      { status: expectedStatus, due: dueHours === null ? null : at(dueHours), openCase: model.openCase, held: [...model.held].sort() },
      where,
    );
    // A suspension is due exactly when the grace of an unpaid invoice has run out and the case has not suspended yet.
    const step = nextDunningStep(state, at(model.hours));
    expectEqual(step?.kind === 'suspend', dueHours !== null && dueHours <= model.hours, where);
  }
}

const action: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: fc.record({ do: fc.constant('advance' as const), hours: fc.integer({ min: 0, max: 100 }) }), weight: 3 },
  {
    arbitrary: fc.record({ do: fc.constant('fail' as const), invoiceId: fc.constantFrom(...INVOICES), failedHoursAgo: fc.integer({ min: -10, max: 60 }), graceHours: fc.integer({ min: 0, max: 96 }) }),
    weight: 3,
  },
  { arbitrary: fc.record({ do: fc.constant('paid' as const), invoiceId: fc.constantFrom(...INVOICES) }), weight: 2 },
  { arbitrary: fc.constant({ do: 'step' as const }), weight: 3 },
  fc.constant({ do: 'replayLastRecord' as const }),
  fc.record({ do: fc.constant('operatorSuspends' as const), entitlementId: fc.constantFrom(...ENTITLEMENTS) }),
  fc.record({ do: fc.constant('operatorReinstates' as const), entitlementId: fc.constantFrom(...ENTITLEMENTS) }),
);

describe('Dunning against a reference model (fast-check)', () => {
  it('suspends once per case after the grace, and reinstates only what it suspended', () => {
    fc.assert(fc.property(fc.array(action, { maxLength: 40, size: 'max' }), run), propertyParams(300));
  });
});
