import { Controller, Get, Query as QueryParams } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { ID_API, IsIdentifier } from '@el/platform';
import { pageOf, ReadParams } from '../infrastructure/read-params';
import { ListAccessRequestsQuery, type AccessRequestPage } from './list-access-requests.query';

export class ListAccessRequestsParams extends ReadParams {
  @ApiPropertyOptional({ ...ID_API }) @IsOptional() @IsIdentifier('customerId') customerId?: string;
  @ApiPropertyOptional({ enum: ['pending', 'approved', 'rejected'], default: 'pending' })
  @IsOptional() @IsIn(['pending', 'approved', 'rejected']) status?: 'pending' | 'approved' | 'rejected';
}

@ApiTags('access requests')
@Controller('v1/access-requests')
export class ListAccessRequestsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'Access requests awaiting a decision (or decided, with status), oldest first (read model)' })
  list(@QueryParams() p: ListAccessRequestsParams): Promise<AccessRequestPage> {
    return this.queries.execute(new ListAccessRequestsQuery({ status: p.status ?? 'pending', ...(p.customerId ? { customerId: p.customerId } : {}) }, pageOf(p), p.minPosition));
  }
}
