import { Body, Controller, Get, HttpCode, Post, Query as QueryParams, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';
import { decisionReplayByIdSchemaV1, decisionReplayByInputsSchemaV1, decisionReplayRequestSchemaV1, type DecisionRecordV1, type DecisionReplayRequestV1 } from '@el/contracts';
import type { Decision } from '@el/domain';
import { Access, ID_API, integerApi, IsIdentifier, JsonSchemaPipe, openApiSchema, OptionalField, IsQueryInteger } from '@el/platform';
import { AuditError } from '../audit.errors';
import { DecisionLogStore, type DecisionPage } from './decision-log-store';
import { DecisionReplayer } from './decision-replayer';

export class DecisionListParams {
  @ApiPropertyOptional({ ...ID_API }) @OptionalField() @IsIdentifier('customerId') customerId?: string;
  @ApiPropertyOptional({ description: 'Only decisions with this code (e.g. SUSPENDED, USAGE_CAP_REACHED, OK)' }) @OptionalField() @IsString() @Matches(/^[A-Z_]{1,40}$/, { message: 'code must be a decision code like SUSPENDED' }) code?: string;
  @ApiPropertyOptional({ description: 'The cursor: nextCursor of the previous page', ...integerApi(0, Number.MAX_SAFE_INTEGER) }) @IsOptional() @IsQueryInteger(0, Number.MAX_SAFE_INTEGER) cursor?: number;
  @ApiPropertyOptional({ description: 'Decisions per page (default 100)', ...integerApi(1, 500) }) @IsOptional() @IsQueryInteger(1, 500) limit?: number;
}

/** Validates a replay body against the shape it names ({decisionId} or the inputs), so its errors are about that shape only. */
class DecisionReplayBody implements PipeTransform<unknown, unknown> {
  private readonly byId = new JsonSchemaPipe(decisionReplayByIdSchemaV1);
  private readonly byInputs = new JsonSchemaPipe(decisionReplayByInputsSchemaV1);
  transform(value: unknown, meta: ArgumentMetadata): unknown {
    const named = value !== null && typeof value === 'object' && !Array.isArray(value) && 'decisionId' in value;
    return (named ? this.byId : this.byInputs).transform(value, meta);
  }
}

/** The fields of two decisions that differ (empty: the same decision). */
function differences(a: Decision, b: Decision): string[] {
  const keys = ['allowed', 'code', 'entitlementId', 'remaining', 'expiresAt', 'upgradeHint', 'reason'] as const;
  return keys.filter((k) => JSON.stringify(a[k] ?? null) !== JSON.stringify(b[k] ?? null));
}

@ApiTags('audit')
@Controller('v1/audit/decisions')
export class DecisionsController {
  constructor(
    private readonly store: DecisionLogStore,
    private readonly replayer: DecisionReplayer,
  ) {}

  @Get()
  @Access('audit:read')
  @ApiOperation({ summary: 'The enforcement decision log (every denial and a sample of allows, DECISION_LOG_ALLOW_SAMPLE), oldest first', description: 'Each record is a DecisionRecordV1: the request, its instant, the decision, the position and catalog version it was decided at, the usage values it read.' })
  @ApiOkResponse({ description: '{items: DecisionRecordV1[], nextCursor}' })
  list(@QueryParams() p: DecisionListParams): Promise<DecisionPage> {
    return this.store.page({ ...(p.customerId !== undefined ? { customerId: p.customerId } : {}), ...(p.code !== undefined ? { code: p.code } : {}), cursor: p.cursor ?? 0, limit: p.limit ?? 100 });
  }

  @Post('replay')
  @HttpCode(200)
  @Access('audit:read')
  @ApiOperation({
    summary: 'Recompute a check\'s decision from the ledger\'s history at a position and an instant, and compare it with what was answered',
    description:
      'Either {decisionId} — a record of the decision log — or {request, position, at, usage?, answered?}: the check as asked, the position and instant it was decided at, ' +
      'the usage values it read (usage counters are not ledger history), and optionally the decision answered. The answer holds the recomputed decision and, when there is an answered one, matches and the fields that differ.',
  })
  @ApiBody({ schema: openApiSchema(decisionReplayRequestSchemaV1) as object })
  @ApiOkResponse({ description: '{decision, position, catalogVersion, events, answered, matches, differences}' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED with field paths' })
  @ApiNotFoundResponse({ description: 'AUDIT.DECISION_NOT_FOUND: no such record in the decision log' })
  async replay(@Body(new DecisionReplayBody()) body: DecisionReplayRequestV1) {
    let record: Pick<DecisionRecordV1, 'request' | 'position' | 'atMs' | 'usage' | 'catalogVersion'> & { decision: Decision | null };
    if ('decisionId' in body) {
      const kept = await this.store.get(body.decisionId);
      if (!kept) throw new AuditError('AUDIT.DECISION_NOT_FOUND', `no decision ${body.decisionId} in the decision log`, { decisionId: body.decisionId });
      record = kept;
    } else {
      record = { request: body.request, position: body.position, atMs: Date.parse(body.at), usage: body.usage ?? [], catalogVersion: null, decision: body.answered ?? null };
    }
    const replayed = await this.replayer.replay({ request: record.request, position: record.position, atMs: record.atMs, usage: record.usage });
    const diff = record.decision ? differences(replayed.decision, record.decision) : null;
    return { ...replayed, answered: record.decision, matches: diff === null ? null : diff.length === 0, differences: diff };
  }
}
