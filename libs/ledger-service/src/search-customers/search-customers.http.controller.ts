import { Controller, Get, Query as QueryParams } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { Access, Ctx, OptionalField, type RequestContext } from '@el/platform';
import { pageOf, ReadParams } from '../infrastructure/read-params';
import { visibleCustomers } from '../infrastructure/visibility';
import { CustomerListPageView, type CustomerListPage } from './customer-list.view';
import { SearchCustomersQuery } from './search-customers.query';

/** The start of a customer id: what an id may hold (ID_SCHEMA), up to its 128 characters, or nothing. */
const ID_PREFIX = /^(?:[A-Za-z0-9][A-Za-z0-9._:@-]{0,127})?$/;

export class SearchCustomersParams extends ReadParams {
  @ApiPropertyOptional({ type: String, maxLength: 128, pattern: ID_PREFIX.source, example: 'acm', description: 'Customer ids that start with this (case-sensitive); empty or absent: every customer' })
  @OptionalField()
  @IsString()
  @Matches(ID_PREFIX, { message: 'search must be the start of a customer id: up to 128 characters, letters, digits and . _ : @ -, starting with a letter or digit' })
  search?: string;
}

@ApiTags('entitlements')
@Access('entitlements:read')
@Controller('v1/customers')
export class SearchCustomersController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({
    summary: 'Customers holding entitlements, by id prefix, in id order, with their entitlements counted by status (read model)',
    description: 'A credential limited to customers (customer roles, a service key with customers) finds only its own. Page with limit and the nextCursor of the previous page.',
  })
  @ApiOkResponse({ type: CustomerListPageView })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED with the path of each bad parameter (search, limit, cursor, minPosition)' })
  list(@QueryParams() p: SearchCustomersParams, @Ctx() ctx: RequestContext): Promise<CustomerListPage> {
    return this.queries.execute(new SearchCustomersQuery(ctx.principal, { prefix: p.search ?? '', within: visibleCustomers(ctx.principal) }, pageOf(p), p.minPosition));
  }
}
