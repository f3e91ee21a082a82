import { assertNever, envelope, type Command, type DomainEvent } from '../shared/envelope';
import { toMillis } from '../shared/time';

/**
 * Dunning: what the ledger does when a customer's payments fail. One stream
 * per customer records the payment gateway's facts (an invoice's payment
 * failed, an invoice was paid) and what the ledger did about them: once the
 * grace after a failure has run out with the invoice still unpaid it suspends
 * the customer's active entitlements (`DunningSuspended` names them), and once
 * every failed invoice is paid it reinstates exactly those (`DunningReinstated`).
 * The suspensions themselves are the entitlements' own events; this stream is
 * the memory of which ones dunning caused, so that a payment never lifts a
 * suspension an operator made for another reason.
 *
 * A dunning case opens with the first failed invoice while nothing is unpaid
 * and closes when nothing is unpaid any more; it is named by the invoice that
 * opened it (`caseId`), which also names the entitlement commands it issues.
 */
export type InvoicePaymentFailed = DomainEvent<
  'InvoicePaymentFailed',
  {
    customerId: string;
    invoiceId: string;
    /** The payment gateway's event id (e.g. Stripe's `evt_…`). */
    gatewayEventId: string;
    /** When the gateway says the payment failed (never later than when the ledger heard of it). */
    failedAt: string;
    /** When the customer's entitlements are suspended if the invoice is still unpaid: the first failure of the invoice plus the grace. */
    suspendAt: string;
  }
>;
export type InvoicePaid = DomainEvent<'InvoicePaid', { customerId: string; invoiceId: string; gatewayEventId: string; paidAt: string }>;
export type DunningSuspended = DomainEvent<
  'DunningSuspended',
  {
    customerId: string;
    caseId: string;
    /** Entitlements this case suspended (empty when the customer had none active). */
    entitlementIds: readonly string[];
  }
>;
export type DunningReinstated = DomainEvent<
  'DunningReinstated',
  {
    customerId: string;
    /** Entitlements dunning no longer holds suspended. */
    entitlementIds: readonly string[];
    /** Those of them that were reinstated; the others had been reinstated, revoked or suspended anew by someone else meanwhile. */
    reinstated: readonly string[];
  }
>;
export type DunningEvent = InvoicePaymentFailed | InvoicePaid | DunningSuspended | DunningReinstated;
export const DUNNING_EVENT_TYPES: readonly DunningEvent['type'][] = ['InvoicePaymentFailed', 'InvoicePaid', 'DunningSuspended', 'DunningReinstated'];

export type RecordPaymentFailure = Command<'RecordPaymentFailure', { customerId: string; invoiceId: string; gatewayEventId: string; failedAt: string; graceHours: number }>;
export type RecordInvoicePaid = Command<'RecordInvoicePaid', { customerId: string; invoiceId: string; gatewayEventId: string; paidAt: string }>;
/** Records the entitlements a case has suspended (issued after suspending them). */
export type RecordDunningSuspension = Command<'RecordDunningSuspension', { caseId: string; entitlementIds: readonly string[] }>;
/** Records the entitlements dunning has let go after the payment (issued after reinstating those still under its suspension). */
export type RecordDunningReinstatement = Command<'RecordDunningReinstatement', { entitlementIds: readonly string[]; reinstated: readonly string[] }>;
export type DunningCommand = RecordPaymentFailure | RecordInvoicePaid | RecordDunningSuspension | RecordDunningReinstatement;

export interface UnpaidInvoice {
  readonly failedAt: string;
  readonly suspendAt: string;
  readonly failures: number;
}

export interface DunningState {
  readonly customerId: string | null;
  /** Invoices whose payment failed and that are not paid yet. */
  readonly unpaid: Readonly<Record<string, UnpaidInvoice>>;
  /** The newest paid invoices (at most PAID_INVOICES_KEPT): a failure delivered after the payment of its invoice changes nothing. */
  readonly paid: readonly string[];
  /** The case while something is unpaid: the invoice that opened it, and whether it has suspended yet. */
  readonly openCase: { readonly caseId: string; readonly suspended: boolean } | null;
  /** Entitlements dunning suspended and has not let go, each with the case that suspended it. */
  readonly suspended: Readonly<Record<string, string>>;
}

/**
 * - `current`: nothing unpaid, nothing suspended by dunning;
 * - `past_due`: something unpaid, the grace is running (or has run out and the suspension is due);
 * - `suspended`: something unpaid, the case has suspended;
 * - `recovering`: everything paid, entitlements still to reinstate (done right after the payment, or by the sweeper after a crash).
 */
export type DunningStatus = 'current' | 'past_due' | 'suspended' | 'recovering';

export const PAID_INVOICES_KEPT = 50;
export const initialDunningState: DunningState = { customerId: null, unpaid: {}, paid: [], openCase: null, suspended: {} };
export const dunningStream = (customerId: string): string => `dunning-${customerId}`;

export function dunningStatus(s: DunningState): DunningStatus {
  if (Object.keys(s.unpaid).length > 0) return s.openCase?.suspended ? 'suspended' : 'past_due';
  return Object.keys(s.suspended).length > 0 ? 'recovering' : 'current';
}

/** When the open case suspends: the earliest `suspendAt` of the unpaid invoices; null unless past due. */
export function suspensionDueAt(s: DunningState): string | null {
  if (dunningStatus(s) !== 'past_due') return null;
  return Object.values(s.unpaid).reduce<string | null>((min, i) => (min === null || toMillis(i.suspendAt) < toMillis(min) ? i.suspendAt : min), null);
}

/** What dunning has to do for this customer at `now`, if anything. */
export type DunningStep =
  | { readonly kind: 'suspend'; readonly caseId: string }
  /** `entitlements`: entitlement id → the case that suspended it. */
  | { readonly kind: 'reinstate'; readonly entitlements: Readonly<Record<string, string>> };

export function nextDunningStep(s: DunningState, now: string): DunningStep | null {
  const due = suspensionDueAt(s);
  if (due !== null && toMillis(due) <= toMillis(now)) return { kind: 'suspend', caseId: s.openCase!.caseId };
  if (dunningStatus(s) === 'recovering') return { kind: 'reinstate', entitlements: s.suspended };
  return null;
}

export function decideDunning(command: DunningCommand, state: DunningState): DunningEvent[] {
  const metadata = envelope(command.metadata);
  switch (command.type) {
    case 'RecordPaymentFailure': {
      const d = command.data;
      // Delivered after the invoice's payment (gateways do not promise order): nothing is owed.
      if (state.paid.includes(d.invoiceId)) return [];
      // A failure the ledger heard of late counts from when it happened, but never from the future.
      const failedAt = toMillis(d.failedAt) <= toMillis(command.metadata.now) ? d.failedAt : command.metadata.now;
      // Retries of the same invoice keep the grace of its first failure.
      const suspendAt = state.unpaid[d.invoiceId]?.suspendAt ?? new Date(toMillis(failedAt) + d.graceHours * 3_600_000).toISOString();
      return [{ type: 'InvoicePaymentFailed', data: { customerId: d.customerId, invoiceId: d.invoiceId, gatewayEventId: d.gatewayEventId, failedAt, suspendAt }, metadata }];
    }
    case 'RecordInvoicePaid': {
      const d = command.data;
      if (state.paid.includes(d.invoiceId)) return [];
      return [{ type: 'InvoicePaid', data: { customerId: d.customerId, invoiceId: d.invoiceId, gatewayEventId: d.gatewayEventId, paidAt: d.paidAt }, metadata }];
    }
    case 'RecordDunningSuspension': {
      if (state.customerId === null) return [];
      const { caseId } = command.data;
      const added = unique(command.data.entitlementIds).filter((id) => !(id in state.suspended));
      const closesOpenCase = state.openCase?.caseId === caseId && !state.openCase.suspended;
      // A case closed by a payment while it was suspending still records what it suspended, so that it is reinstated.
      if (!closesOpenCase && added.length === 0) return [];
      return [{ type: 'DunningSuspended', data: { customerId: state.customerId, caseId, entitlementIds: added }, metadata }];
    }
    case 'RecordDunningReinstatement': {
      if (state.customerId === null) return [];
      const released = unique(command.data.entitlementIds).filter((id) => id in state.suspended);
      if (released.length === 0) return [];
      const reinstated = command.data.reinstated.filter((id) => released.includes(id));
      return [{ type: 'DunningReinstated', data: { customerId: state.customerId, entitlementIds: released, reinstated }, metadata }];
    }
    default:
      return assertNever(command, 'dunning command');
  }
}

export function evolveDunning(state: DunningState, event: DunningEvent): DunningState {
  switch (event.type) {
    case 'InvoicePaymentFailed': {
      const d = event.data;
      const previous = state.unpaid[d.invoiceId];
      return {
        ...state,
        customerId: d.customerId,
        unpaid: { ...state.unpaid, [d.invoiceId]: { failedAt: previous?.failedAt ?? d.failedAt, suspendAt: previous?.suspendAt ?? d.suspendAt, failures: (previous?.failures ?? 0) + 1 } },
        openCase: state.openCase ?? { caseId: d.invoiceId, suspended: false },
      };
    }
    case 'InvoicePaid': {
      const { [event.data.invoiceId]: _paid, ...unpaid } = state.unpaid;
      return {
        ...state,
        customerId: event.data.customerId,
        unpaid,
        paid: [...state.paid, event.data.invoiceId].slice(-PAID_INVOICES_KEPT),
        // Paid within the grace: the pending suspension is off.
        openCase: Object.keys(unpaid).length === 0 ? null : state.openCase,
      };
    }
    case 'DunningSuspended': {
      const suspended = { ...state.suspended };
      for (const id of event.data.entitlementIds) suspended[id] = event.data.caseId;
      const openCase = state.openCase?.caseId === event.data.caseId ? { ...state.openCase, suspended: true } : state.openCase;
      return { ...state, suspended, openCase };
    }
    case 'DunningReinstated': {
      const suspended = { ...state.suspended };
      for (const id of event.data.entitlementIds) delete suspended[id];
      return { ...state, suspended };
    }
    default:
      return assertNever(event, 'dunning event');
  }
}

export function foldDunning(events: readonly DunningEvent[]): DunningState {
  return events.reduce(evolveDunning, initialDunningState);
}

export const dunningDecider = {
  decide: decideDunning,
  evolve: evolveDunning,
  initialState: (): DunningState => initialDunningState,
};

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}
