import { Controller, Get, Query as QueryParams } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { Access, Ctx, ID_API, IsIdentifier, type RequestContext } from '@el/platform';
import { customerFilter } from '../infrastructure/visibility';
import { pageOf, ReadParams } from '../infrastructure/read-params';
import { ListAccessRequestsQuery, type AccessRequestPage } from './list-access-requests.query';

export class ListAccessRequestsParams extends ReadParams {
  @ApiPropertyOptional({ ...ID_API }) @IsOptional() @IsIdentifier('customerId') customerId?: string;
  @ApiPropertyOptional({ enum: ['pending', 'approved', 'rejected'], default: 'pending' })
  @IsOptional() @IsIn(['pending', 'approved', 'rejected']) status?: 'pending' | 'approved' | 'rejected';
}

@ApiTags('access requests')
@Access('access-requests:read')
@Controller('v1/access-requests')
export class ListAccessRequestsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'Access requests awaiting a decision (or decided, with status), oldest first (read model)' })
  list(@QueryParams() p: ListAccessRequestsParams, @Ctx() ctx: RequestContext): Promise<AccessRequestPage> {
    return this.queries.execute(new ListAccessRequestsQuery(ctx.principal, { status: p.status ?? 'pending', ...customerFilter(ctx.principal, p.customerId) }, pageOf(p), p.minPosition));
  }
}
