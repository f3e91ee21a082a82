import { Controller, Get, Param, Query as QueryParams } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Access, Ctx, IdParamPipe, type RequestContext } from '@el/platform';
import { ReadParams } from '../infrastructure/read-params';
import { GetCustomerSummaryQuery, type CustomerSummary } from './get-customer-summary.query';

@ApiTags('entitlements')
@Access('entitlements:read')
@Controller('v1/customers')
export class GetCustomerSummaryController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':customerId/summary')
  @ApiOperation({ summary: 'A customer at a glance: entitlements by status, seats bought and assigned, products' })
  @ApiOkResponse({ description: '{customerId, entitlements, active, suspended, expired, revoked, seats, seatsAssigned, products, position}' })
  @ApiNotFoundResponse({ description: 'CUSTOMER.NOT_FOUND' })
  get(@Param('customerId', IdParamPipe) customerId: string, @QueryParams() p: ReadParams, @Ctx() ctx: RequestContext): Promise<CustomerSummary> {
    return this.queries.execute(new GetCustomerSummaryQuery(customerId, ctx.principal, p.minPosition));
  }
}
