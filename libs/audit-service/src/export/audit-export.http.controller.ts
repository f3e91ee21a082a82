import { Controller, Get, Inject, Optional, Query as QueryParams, StreamableFile } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { Readable } from 'node:stream';
import { EVENT_STORE, storedEvents, type EventStore } from '@el/event-store';
import { Access, Clock, Ctx, ID_API, integerApi, IsIdentifier, OptionalField, seesCustomer, type RequestContext, IsQueryInteger } from '@el/platform';
import { AuditError } from '../audit.errors';
import { AuditLog } from '../log/audit-log';
import { TreeHeads } from '../tree-heads/tree-heads';
import { auditExportLines } from './audit-export';

const MAX = Number.MAX_SAFE_INTEGER;

export class AuditExportParams {
  @ApiPropertyOptional({ description: 'First ledger position (inclusive)', ...integerApi(0, MAX) }) @IsOptional() @IsQueryInteger(0, MAX) fromPosition?: number;
  @ApiPropertyOptional({ description: 'Last ledger position (inclusive); a complete export (from the first event) runs on to the signed tree head that covers it', ...integerApi(0, MAX) })
  @IsOptional() @IsQueryInteger(0, MAX) toPosition?: number;
  @ApiPropertyOptional({ ...ID_API, description: "Only this customer's events, each with its inclusion proof (a customer admin always gets its own)" }) @OptionalField() @IsIdentifier('customerId') customerId?: string;
}

@ApiTags('audit')
@Controller('v1/audit')
export class AuditExportController {
  constructor(
    private readonly log: AuditLog,
    private readonly heads: TreeHeads,
    private readonly clock: Clock,
    @Optional() @Inject(EVENT_STORE) private readonly events?: EventStore,
  ) {}

  @Get('export')
  @Access('audit:export')
  @ApiOperation({
    summary: 'Verifiable export (JSON lines, streamed): events with their leaf hashes, signed tree heads, and inclusion proofs for partial exports',
    description:
      'Verify it with `npm run audit -- verify <file>` and the public JWKS, or any implementation of libs/audit-service/README.md. ' +
      'From the first event (no fromPosition, no customerId) the export is complete: every event up to a signed tree head, whose roots a verifier recomputes. ' +
      'Otherwise each event carries its RFC 6962 inclusion proof in the header\'s signed tree head, and nothing of other events is shown. ' +
      'A customer admin gets only its own customer\'s events.',
  })
  @ApiOkResponse({ description: 'application/x-ndjson: header, event lines, treeHead lines, end line' })
  @ApiNotFoundResponse({ description: 'AUDIT.EMPTY_LOG (nothing logged yet) or CUSTOMER.NOT_FOUND (a customer this credential may not see)' })
  async export(@QueryParams() p: AuditExportParams, @Ctx() ctx: RequestContext): Promise<StreamableFile> {
    let customerId = p.customerId;
    if (ctx.principal.customers !== null) {
      // A customer-scoped credential exports its own customer's events, with proofs: never anyone else's.
      customerId ??= ctx.principal.customers.length === 1 ? ctx.principal.customers[0] : undefined;
      if (customerId === undefined || !seesCustomer(ctx.principal, customerId)) throw new AuditError('CUSTOMER.NOT_FOUND', 'name one customer this credential may see (customerId)', { customerId: p.customerId ?? null });
    }
    if (p.fromPosition !== undefined && p.toPosition !== undefined && p.fromPosition > p.toPosition) {
      throw new AuditError('AUDIT.BAD_QUERY', 'fromPosition must not be after toPosition', { fromPosition: p.fromPosition, toPosition: p.toPosition });
    }
    if (this.log.size === 0) throw new AuditError('AUDIT.EMPTY_LOG', 'the audit log holds no event yet');
    // The ledger's copies as stored (before upcasters): what the leaves cover.
    const lines = auditExportLines(this.log, this.heads, this.events ? storedEvents(this.events) : null, { ...(p.fromPosition !== undefined ? { fromPosition: p.fromPosition } : {}), ...(p.toPosition !== undefined ? { toPosition: p.toPosition } : {}), ...(customerId !== undefined ? { customerId } : {}) }, this.clock.now());
    const name = `audit-${customerId ?? 'all'}-${p.fromPosition ?? 'first'}-${p.toPosition ?? 'latest'}.jsonl`;
    return new StreamableFile(Readable.from(lines), { type: 'application/x-ndjson', disposition: `attachment; filename="${name}"` });
  }
}
