import { Controller, Get, Query as QueryParams } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { Access, ID_API, integerApi, IsIdentifier, OptionalField, IsInstant, INSTANT_API, IsQueryInteger } from '@el/platform';
import { AuditError } from '../audit.errors';
import { AuditHistory, HISTORY_KINDS, type HistoryPage } from './audit-history';

export class HistoryParams {
  @ApiPropertyOptional({ ...ID_API, description: 'Every event about this customer (orders, entitlements, requests, tokens, usage corrections)' }) @OptionalField() @IsIdentifier('customerId') customerId?: string;
  @ApiPropertyOptional({ ...ID_API, description: 'Every event about this entitlement (its stream, its usage corrections and closes, the tokens that carry it)' }) @OptionalField() @IsIdentifier('entitlementId') entitlementId?: string;
  @ApiPropertyOptional({ description: 'Every event this actor caused (key:<keyId>, oidc:<subject>, system:<reason>, erp:…)', maxLength: 512 }) @OptionalField() @IsString() @MaxLength(512) actor?: string;
  @ApiPropertyOptional({ description: 'Every event of one correlation: an ERP order and the grants and tokens it led to', maxLength: 512 }) @OptionalField() @IsString() @MaxLength(512) correlationId?: string;
  @ApiPropertyOptional({ description: 'Only these event types, comma-separated (e.g. EntitlementGranted,PlanChanged)', maxLength: 2000 })
  @OptionalField() @IsString() @MaxLength(2000) @Matches(/^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$/, { message: 'types must be event type names separated by commas' }) types?: string;
  @ApiPropertyOptional({ ...INSTANT_API, description: 'Recorded at or after (ISO-8601 with its offset)' }) @OptionalField() @IsInstant() recordedFrom?: string;
  @ApiPropertyOptional({ ...INSTANT_API, description: 'Recorded before (ISO-8601 with its offset)' }) @OptionalField() @IsInstant() recordedBefore?: string;
  @ApiPropertyOptional({ description: 'The cursor: nextCursor of the previous page', ...integerApi(-1, Number.MAX_SAFE_INTEGER) }) @IsOptional() @IsQueryInteger(-1, Number.MAX_SAFE_INTEGER) cursor?: number;
  @ApiPropertyOptional({ description: 'Events per page (default 100)', ...integerApi(1, 500) }) @IsOptional() @IsQueryInteger(1, 500) limit?: number;
}

@ApiTags('audit')
@Controller('v1/audit')
export class HistoryController {
  constructor(private readonly history: AuditHistory) {}

  @Get('history')
  @Access('audit:read')
  @ApiOperation({
    summary: 'History of an entitlement, a customer, an actor or a correlation id: each event with who, why, when (recorded and effective), its source and the command it came from',
    description: 'Name exactly one of customerId, entitlementId, actor, correlationId. Oldest first; paginate with cursor. Each item carries its position, which GET /v1/audit/proofs/inclusion proves.',
  })
  @ApiOkResponse({ description: '{items: [{position, leafIndex, stream, revision, type, recordedAt, effectiveAt, actor, source, reason, correlationId, causationId, idempotencyKey, data}], nextCursor, lastPosition} — lastPosition: the newest ledger position the audit log held (events after it are not in the answer yet; after a start the audit log catches up behind the rest of the process)' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: not exactly one subject, or a bad filter' })
  async list(@QueryParams() p: HistoryParams): Promise<HistoryPage> {
    const subjects = HISTORY_KINDS.filter((k) => p[k.param] !== undefined);
    if (subjects.length !== 1) {
      throw new AuditError('AUDIT.BAD_QUERY', 'name exactly one of customerId, entitlementId, actor, correlationId', { given: subjects.map((s) => s.param) });
    }
    const kind = subjects[0]!;
    if (p.recordedFrom && p.recordedBefore && Date.parse(p.recordedFrom) >= Date.parse(p.recordedBefore)) {
      throw new AuditError('AUDIT.BAD_QUERY', 'recordedFrom must be before recordedBefore', { recordedFrom: p.recordedFrom, recordedBefore: p.recordedBefore });
    }
    return this.history.page({
      kind: kind.kind,
      ref: p[kind.param]!,
      ...(p.types ? { types: p.types.split(',') } : {}),
      ...(p.recordedFrom ? { recordedFrom: p.recordedFrom } : {}),
      ...(p.recordedBefore ? { recordedBefore: p.recordedBefore } : {}),
      cursor: p.cursor ?? -1,
      limit: p.limit ?? 100,
    });
  }
}
