import { CodedError } from '@el/platform';

export const AUDIT_ERROR_CODES = ['AUDIT.EVENT_NOT_FOUND', 'AUDIT.TREE_SIZE_OUT_OF_RANGE', 'AUDIT.EMPTY_LOG', 'AUDIT.BAD_QUERY', 'AUDIT.POSITION_NOT_LOGGED', 'AUDIT.DECISION_NOT_FOUND', 'AUDIT.NO_VERIFICATION', 'CUSTOMER.NOT_FOUND'] as const;
export type AuditErrorCode = (typeof AUDIT_ERROR_CODES)[number];

/** A failure of the audit service's application layer, with its stable code (never an HTTP status). */
export class AuditError extends CodedError {
  override readonly name = 'AuditError';
  constructor(code: AuditErrorCode, message: string, details?: Readonly<Record<string, unknown>>) {
    super(code, message, details);
  }
}

/** The audit service's error table: the one place where its codes become HTTP statuses. */
export const auditErrorTable = {
  /** No event at that position in the audit log (yet). */
  'AUDIT.EVENT_NOT_FOUND': 404,
  /** A tree size the log does not have (yet), or a consistency proof from a larger size to a smaller one. */
  'AUDIT.TREE_SIZE_OUT_OF_RANGE': 400,
  /** Nothing is logged yet: no tree head to prove against. */
  'AUDIT.EMPTY_LOG': 404,
  /** A history query that does not name exactly one subject. */
  'AUDIT.BAD_QUERY': 400,
  /** A replay at a position the audit log does not hold yet (it is behind the ledger): retry shortly. */
  'AUDIT.POSITION_NOT_LOGGED': 409,
  'AUDIT.DECISION_NOT_FOUND': 404,
  /** No store verification has run since the service started (runs are kept in memory). */
  'AUDIT.NO_VERIFICATION': 404,
  'CUSTOMER.NOT_FOUND': 404,
} as const;
