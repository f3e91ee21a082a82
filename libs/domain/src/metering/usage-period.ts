import { roundUsage } from './usage';
import type { CapType, MeterPeriod } from '../catalog/catalog';
import { assertNever, envelope, type Command, type DomainEvent } from '../shared/envelope';

/**
 * One period of one entitlement's meter, as the event store keeps it: the
 * corrections made to its usage (who, why, when) and, once its end plus the
 * lateness window has passed, its close with the totals billed. One stream per
 * entitlement, meter and period (`usagePeriodStream`), so a stream stays small
 * (its corrections and one close) and the close is decided against exactly the
 * corrections it totals: a correction and a close racing for the same period
 * meet at the stream's expected revision, and one of them decides again.
 *
 * The raw usage events are not here: they stay in the metering store, and the
 * close carries their count and position range (the lineage to fetch them).
 */

/** The stream of an entitlement's meter period: `usage-<entitlementId>/<feature>/<periodStart>` (category `usage`). */
export function usagePeriodStream(entitlementId: string, feature: string, periodStart: string): string {
  return `usage-${entitlementId}/${feature}/${periodStart}`;
}

/** Identifies the period everywhere: the meter of one entitlement, and the period's bounds. */
export interface UsagePeriodKey {
  readonly customerId: string;
  readonly entitlementId: string;
  readonly feature: string;
  readonly period: MeterPeriod;
  /** Inclusive (ISO-8601, UTC). */
  readonly periodStart: string;
  /** Exclusive. */
  readonly periodEnd: string;
}

/** A raw usage event a correction names (its CloudEvents identity). */
export interface CorrectedUsageRef {
  readonly source: string;
  readonly id: string;
}

export type UsageCorrected = DomainEvent<
  'UsageCorrected',
  UsagePeriodKey & {
    /** The caller's idempotency key: one correction per id, ever. */
    readonly correctionId: string;
    /** Added to the meter's value for the period (negative takes usage back); never 0. */
    readonly quantity: number;
    readonly reason: string;
    /** The raw usage events this correction is about (they stay as they are). */
    readonly corrects: readonly CorrectedUsageRef[];
    /** SHA-256 of the request's content: the same correctionId with another content is refused. */
    readonly fingerprint: string;
    readonly correctedAt: string;
  }
>;

/** What the metering store counted for the period when it closed (corrections come from the stream itself). */
export interface UsageFigures {
  /** The meter's value from the raw events alone (its aggregation; SUM unless the catalog says otherwise). */
  readonly usage: number;
  /** Raw usage events counted in the period. */
  readonly events: number;
  /** Usage positions of the first and last raw event (null without events). */
  readonly firstPosition: number | null;
  readonly lastPosition: number | null;
  /** The usage position the figures include everything up to: the period's raw rows are those at or before it. */
  readonly throughPosition: number;
}

export type UsagePeriodClosed = DomainEvent<
  'UsagePeriodClosed',
  UsagePeriodKey &
    UsageFigures & {
      /** The quantity included in the plan (the meter's cap when the period closed). */
      readonly included: number;
      readonly capType: CapType;
      readonly corrections: { readonly count: number; readonly total: number };
      /** usage + corrections: what is billed against `included`. */
      readonly billable: number;
      readonly overage: number;
      readonly closedAt: string;
    }
>;

export type UsagePeriodEvent = UsageCorrected | UsagePeriodClosed;

export type CorrectUsage = Command<'CorrectUsage', Omit<UsageCorrected['data'], 'correctedAt'>>;
export type CloseUsagePeriod = Command<
  'CloseUsagePeriod',
  UsagePeriodKey &
    UsageFigures & {
      readonly included: number;
      readonly capType: CapType;
      /** The period may close from this instant on: its end plus the lateness window (and a settling margin). */
      readonly closableAt: string;
    }
>;
export type UsagePeriodCommand = CorrectUsage | CloseUsagePeriod;

export type UsagePeriodState =
  | { readonly status: 'open'; readonly corrections: ReadonlyMap<string, UsageCorrected['data']> }
  | { readonly status: 'closed'; readonly corrections: ReadonlyMap<string, UsageCorrected['data']>; readonly closed: UsagePeriodClosed['data'] };

export const USAGE_PERIOD_ERROR_CODES = ['USAGE.PERIOD_CLOSED', 'USAGE.PERIOD_NOT_OVER', 'USAGE.CORRECTION_ID_REUSED', 'USAGE.CORRECTION_INVALID'] as const;
export type UsagePeriodErrorCode = (typeof USAGE_PERIOD_ERROR_CODES)[number];

/** A usage-period command refused, with its stable code (mapped to HTTP by the metering service's error table). */
export class UsagePeriodRejected extends Error {
  override readonly name = 'UsagePeriodRejected';
  constructor(
    readonly code: UsagePeriodErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

const refuse = (code: UsagePeriodErrorCode, message: string, details: Record<string, unknown> = {}): never => {
  throw new UsagePeriodRejected(code, message, details);
};

export const initialUsagePeriodState = (): UsagePeriodState => ({ status: 'open', corrections: new Map() });

export function correctionsTotal(state: UsagePeriodState): { count: number; total: number } {
  let total = 0;
  for (const c of state.corrections.values()) total += c.quantity;
  return { count: state.corrections.size, total };
}

export function decideUsagePeriod(command: UsagePeriodCommand, state: UsagePeriodState): UsagePeriodEvent[] {
  switch (command.type) {
    case 'CorrectUsage': {
      const d = command.data;
      const earlier = state.corrections.get(d.correctionId);
      // A retry answers what was recorded, even once the period has closed.
      if (earlier) {
        if (earlier.fingerprint === d.fingerprint) return [];
        return refuse('USAGE.CORRECTION_ID_REUSED', `correction ${d.correctionId} was already recorded with another content; corrections never change (send another one)`, { correctionId: d.correctionId });
      }
      if (state.status === 'closed') {
        return refuse('USAGE.PERIOD_CLOSED', `the ${d.feature} period of entitlement ${d.entitlementId} from ${d.periodStart} closed at ${state.closed.closedAt}: its totals are billed and never change`, {
          entitlementId: d.entitlementId,
          feature: d.feature,
          periodStart: d.periodStart,
          closedAt: state.closed.closedAt,
        });
      }
      if (!Number.isFinite(d.quantity) || d.quantity === 0) refuse('USAGE.CORRECTION_INVALID', 'a correction moves usage by a non-zero, finite quantity', { quantity: d.quantity });
      return [{ type: 'UsageCorrected', data: { ...d, correctedAt: command.metadata.now }, metadata: envelope(command.metadata) }];
    }
    case 'CloseUsagePeriod': {
      const d = command.data;
      // Closed once: a second closer (another process, a later pass) records nothing.
      if (state.status === 'closed') return [];
      if (command.metadata.now < d.closableAt) refuse('USAGE.PERIOD_NOT_OVER', `the period from ${d.periodStart} may close from ${d.closableAt} on`, { closableAt: d.closableAt });
      const corrections = correctionsTotal(state);
      const billable = roundUsage(d.usage + corrections.total);
      const { closableAt: _closableAt, ...rest } = d;
      return [
        {
          type: 'UsagePeriodClosed',
          data: { ...rest, corrections, billable, overage: Math.max(0, billable - d.included), closedAt: command.metadata.now },
          metadata: envelope(command.metadata),
        },
      ];
    }
    default:
      return assertNever(command, 'usage period command');
  }
}

export function evolveUsagePeriod(state: UsagePeriodState, event: UsagePeriodEvent): UsagePeriodState {
  switch (event.type) {
    case 'UsageCorrected': {
      const corrections = new Map(state.corrections);
      corrections.set(event.data.correctionId, event.data);
      return { ...state, corrections };
    }
    case 'UsagePeriodClosed':
      return { status: 'closed', corrections: state.corrections, closed: event.data };
    default:
      return assertNever(event, 'usage period event');
  }
}

export const usagePeriodDecider = { decide: decideUsagePeriod, evolve: evolveUsagePeriod, initialState: initialUsagePeriodState };

export function isUsagePeriodEvent(e: { type: string }): e is UsagePeriodEvent {
  return e.type === 'UsageCorrected' || e.type === 'UsagePeriodClosed';
}
