import { Controller, Get, Query as QueryParams, StreamableFile } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsString, Matches, MaxLength } from 'class-validator';
import { Readable } from 'node:stream';
import { Access, Ctx, ID_API, IsIdentifier, OptionalField, type RequestContext } from '@el/platform';
import { ExportUsageQuery } from './export-usage.query';

export class ExportParams {
  @ApiProperty({ description: 'The periods whose start lies in this month (YYYY-MM, UTC), or one exact period start (ISO-8601)', example: '2026-11' })
  @IsString()
  @MaxLength(40)
  @Matches(/^\d{4}-\d{2}(-\d{2}T[0-9:.]+(Z|[+-]\d{2}:\d{2}))?$/, { message: 'period must be a month YYYY-MM or a period start (ISO-8601)' })
  period!: string;
  @ApiPropertyOptional({ enum: ['csv', 'jsonl'], default: 'csv' }) @OptionalField() @IsIn(['csv', 'jsonl']) format?: 'csv' | 'jsonl';
  @ApiPropertyOptional({ ...ID_API, description: "Only this customer's meters" }) @OptionalField() @IsIdentifier('customerId') customerId?: string;
  @ApiPropertyOptional({ enum: ['summary', 'events'], default: 'summary', description: 'summary: a row per customer, entitlement, meter and period; events: every raw usage event and correction of those periods (the lineage)' })
  @OptionalField()
  @IsIn(['summary', 'events'])
  lines?: 'summary' | 'events';
}

@ApiTags('usage')
@Controller()
export class ExportUsageController {
  constructor(private readonly queries: QueryBus) {}

  @Get('v1/usage/export')
  @Access('usage:export')
  @ApiOperation({
    summary: 'Billing export (CSV or JSON lines, streamed): per customer, entitlement and meter the included quantity, usage, corrections, overage and the lineage',
    description:
      'A closed period (UsagePeriodClosed) is exported from its close record and never changes; an open one is computed from the metering store now (`closed: false`). ' +
      '`lines=events` lists each raw usage event and each correction of the same periods, in position order. Scoped credentials see only their customers.',
  })
  @ApiOkResponse({ description: 'text/csv (RFC 4180, header first) or application/x-ndjson' })
  @ApiNotFoundResponse({ description: 'CUSTOMER.NOT_FOUND: a customer this credential may not see, or without entitlements' })
  async export(@QueryParams() p: ExportParams, @Ctx() ctx: RequestContext): Promise<StreamableFile> {
    const format = p.format ?? 'csv';
    const out = await this.queries.execute(new ExportUsageQuery(p.period, format, p.lines ?? 'summary', ctx.principal, p.customerId));
    return new StreamableFile(Readable.from(out.body), { type: out.contentType, disposition: `attachment; filename="${out.filename}"` });
  }
}
