import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { StoreCheckReport, StoreFinding } from '../verify/check-store';

export type StoreVerificationState = 'running' | 'passed' | 'failed' | 'error';
export const STORE_VERIFICATION_STATES: readonly StoreVerificationState[] = ['running', 'passed', 'failed', 'error'];

/**
 * A run of check-store (the event store against the audit store) started
 * over HTTP: `passed` when the report has no finding, `failed` when it has,
 * `error` when the check could not finish (a store did not answer).
 */
export interface StoreVerification {
  readonly id: string;
  readonly state: StoreVerificationState;
  readonly startedAt: string;
  /** null while running. */
  readonly finishedAt: string | null;
  /** The principal that started it (`key:<keyId>`, `oidc:<subject>`). */
  readonly requestedBy: string;
  /** Leaves of the audit log compared so far, of those it held (`total` grows with the log while the run reads it). */
  readonly progress: { readonly done: number; readonly total: number };
  /** The check's report once it finished (passed or failed); null while running and on error. */
  readonly report: StoreCheckReport | null;
  /** Why the check could not finish (state error only). */
  readonly error?: string;
}

export class StoreFindingView implements StoreFinding {
  @ApiProperty({ enum: ['event store', 'audit store'], description: 'Which store holds the discrepancy' }) store!: StoreFinding['store'];
  @ApiProperty({ type: 'integer', nullable: true, description: 'Ledger position it concerns, when it concerns one' }) position!: number | null;
  @ApiProperty({ enum: ['altered', 'removed', 'inserted', 'tree head'] }) problem!: StoreFinding['problem'];
  @ApiProperty({ example: 'position 8 (entitlement-2d7d…@1) no longer gives the leaf the audit log recorded' }) detail!: string;
}

export class StoreCheckReportView implements StoreCheckReport {
  @ApiProperty({ description: 'No finding: both stores hold the same history, and every stored tree head verifies' }) ok!: boolean;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Events of the audit log compared' }) events!: number;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Signed tree heads checked (those stored when the check began)' }) treeHeads!: number;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Events in the event store after the audit log\'s last one: not logged yet (not a discrepancy)' }) notYetLogged!: number;
  @ApiProperty({ type: [StoreFindingView], description: 'Every discrepancy found (the first 100)' }) findings!: StoreFindingView[];
}

export class StoreVerificationProgressView {
  @ApiProperty({ type: 'integer', minimum: 0 }) done!: number;
  @ApiProperty({ type: 'integer', minimum: 0 }) total!: number;
}

export class StoreVerificationView implements StoreVerification {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: STORE_VERIFICATION_STATES, description: 'running; passed (no finding); failed (findings in the report); error (the check could not finish)' }) state!: StoreVerificationState;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'null while running' }) finishedAt!: string | null;
  @ApiProperty({ example: 'key:3f9c1a7b2e4d6f80', description: 'The principal that started it' }) requestedBy!: string;
  @ApiProperty({ type: StoreVerificationProgressView, description: 'Leaves of the audit log compared so far, of those it held' }) progress!: StoreVerificationProgressView;
  @ApiProperty({ type: StoreCheckReportView, nullable: true, description: 'The report once finished (passed or failed); null while running and on error' }) report!: StoreCheckReportView | null;
  @ApiPropertyOptional({ description: 'Why the check could not finish (state error only)' }) error?: string;
}
