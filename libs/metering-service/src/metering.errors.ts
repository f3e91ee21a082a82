import { CodedError } from '@el/platform';

/** Codes the metering service's application layer raises, beside the usage-period decider's (`USAGE_PERIOD_ERROR_CODES`). */
export const METERING_ERROR_CODES = ['USAGE.UNKNOWN_CUSTOMER', 'USAGE.UNKNOWN_ENTITLEMENT', 'USAGE.UNKNOWN_FEATURE', 'USAGE.NOT_A_PERIOD_START', 'USAGE.BEFORE_ENTITLEMENT', 'USAGE.TIME_IN_FUTURE', 'CONCURRENCY.CONFLICT', 'CUSTOMER.NOT_FOUND', 'USAGE.CORRECTION_INVALID'] as const;
export type MeteringErrorCode = (typeof METERING_ERROR_CODES)[number];

/** A failure of the metering service's application layer, with its stable code (never an HTTP status). */
export class MeteringError extends CodedError {
  override readonly name = 'MeteringError';
  constructor(code: MeteringErrorCode, message: string, details?: Readonly<Record<string, unknown>>) {
    super(code, message, details);
  }
}

/**
 * The metering service's error table: the one place where its codes become
 * HTTP statuses. Usage ingestion answers per event and never fails as a whole
 * for these; corrections and exports do. `USAGE.PERIOD_NOT_OVER` is internal
 * (only the closer closes, and only due periods): it is not here, so it would
 * answer 500 and be logged.
 */
export const meteringErrorTable = {
  'USAGE.UNKNOWN_CUSTOMER': 404,
  'USAGE.UNKNOWN_ENTITLEMENT': 404,
  'CUSTOMER.NOT_FOUND': 404,
  /** An entitlement the customer does not hold (usage series). */
  'ENTITLEMENT.NOT_FOUND': 404,
  'USAGE.PERIOD_CLOSED': 409,
  /** Just started: the meter feed has not caught up yet (Retry-After). */
  'METERING.CATCHING_UP': 503,
  'CONCURRENCY.CONFLICT': 409,
  'USAGE.UNKNOWN_FEATURE': 422,
  'USAGE.NOT_A_PERIOD_START': 422,
  'USAGE.BEFORE_ENTITLEMENT': 422,
  'USAGE.TIME_IN_FUTURE': 422,
  'USAGE.CORRECTION_ID_REUSED': 422,
  'USAGE.CORRECTION_INVALID': 422,
} as const satisfies Readonly<Record<string, number>>;
