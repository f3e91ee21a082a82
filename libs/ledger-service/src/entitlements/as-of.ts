import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import type { AsOf, AsOfRequest } from '@el/domain';
import { INSTANT_API, IsInstant } from '@el/platform';
import { EntitlementView } from './entitlement.view';

/**
 * The two query parameters of an as-of (bitemporal) read, defined once for
 * both entitlement queries that accept them (a parameter class that has other
 * fields declares these two with these decorators).
 */
export const AsOfField = () =>
  applyDecorators(
    ApiPropertyOptional({
      ...INSTANT_API,
      example: '2026-10-15T00:00:00Z',
      description:
        'Effective time: answer with the entitlement as it was in force at this instant, computed from its event stream. ' +
        'Events count from the time they take effect (a grant from its validFrom); validity and grace that ended by then ' +
        'show as expired. An entitlement not yet in force then is absent (404 on the single read). Default: recordedAsOf. ' +
        'ISO-8601 date-time with its offset; send a + offset as %2B.',
    }),
    IsOptional(),
    IsInstant(),
  );

export const RecordedAsOfField = () =>
  applyDecorators(
    ApiPropertyOptional({
      ...INSTANT_API,
      example: '2026-11-01T00:00:00Z',
      description:
        'Transaction time: only what the ledger had recorded by this instant counts (events whose recordedAt ≤ it), ' +
        'so a later correction or back-dated change is left out. An entitlement with nothing recorded by then is absent. ' +
        'Default: now. With asOf: "what did the ledger, as of recordedAsOf, believe was in force at asOf"; alone, ' +
        '"what did we believe then about then". ISO-8601 date-time with its offset; send a + offset as %2B.',
    }),
    IsOptional(),
    IsInstant(),
  );

/** The as-of parameters of `GET /v1/entitlements/:id`. */
export class AsOfParams implements AsOfRequest {
  @AsOfField() asOf?: string;
  @RecordedAsOfField() recordedAsOf?: string;
}

export function isAsOfRead(p: AsOfRequest): boolean {
  return p.asOf !== undefined || p.recordedAsOf !== undefined;
}

/** The question an as-of answer answers, defaults filled in, in UTC. */
export class AsOfEcho implements AsOf {
  @ApiProperty({ format: 'date-time', description: 'The effective time the answer is about' }) asOf!: string;
  @ApiProperty({ format: 'date-time', description: 'What the ledger had recorded by this instant' }) recordedAsOf!: string;
}

/**
 * An entitlement as of a time: the same fields as the current view, `revision`
 * being the stream revision the ledger had reached by `recordedAsOf`, plus the question.
 */
export class EntitlementAsOfView extends EntitlementView {
  @ApiPropertyOptional({ type: AsOfEcho, description: 'Present only on an as-of read (asOf or recordedAsOf given)' }) asOf?: AsOfEcho;
}
