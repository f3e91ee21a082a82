import { Controller, Get, Param, Query as QueryParams } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import type { EntitlementStatus } from '@el/domain';
import { Access, Ctx, ID_API, IdParamPipe, integerApi, IsIdentifier, validationFailed, type RequestContext } from '@el/platform';
import { AsOfEcho, AsOfField, isAsOfRead, RecordedAsOfField } from '../entitlements/as-of';
import { EntitlementView } from '../entitlements/entitlement.view';
import { ListCustomerEntitlementsAsOfQuery, type EntitlementAsOfPage } from './list-entitlements-as-of.query';
import { ListEntitlementsQuery, type EntitlementPage } from './list-entitlements.query';
import { pageOf, ReadParams } from '../infrastructure/read-params';
import { customerFilter } from '../infrastructure/visibility';

const STATUSES = ['active', 'suspended', 'expired', 'revoked'];

export class EntitlementFilterParams extends ReadParams {
  @ApiPropertyOptional({ enum: STATUSES }) @IsOptional() @IsIn(STATUSES) status?: EntitlementStatus;
  @ApiPropertyOptional({ example: 'analytics', ...ID_API }) @IsOptional() @IsIdentifier('productId') productId?: string;
  @ApiPropertyOptional({ description: 'Only active or suspended entitlements whose term ends within this many days, soonest first', ...integerApi(0, 3650) })
  @IsOptional() @Type(() => Number) @Min(0) @Max(3650) @IsInt() expiringWithinDays?: number;
}

/** The customer's list also answers as of a time (the cross-customer search does not). */
export class CustomerEntitlementsParams extends EntitlementFilterParams {
  @AsOfField() asOf?: string;
  @RecordedAsOfField() recordedAsOf?: string;
}

export class SearchEntitlementsParams extends EntitlementFilterParams {
  @ApiPropertyOptional({ ...ID_API }) @IsOptional() @IsIdentifier('customerId') customerId?: string;
}

class EntitlementPageResponse {
  @ApiProperty({ description: 'Global position this answer includes' }) position!: number;
  @ApiProperty({ type: [EntitlementView] }) items!: EntitlementView[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as cursor for the next page; null on the last page' }) nextCursor!: string | null;
  @ApiPropertyOptional({ type: AsOfEcho, description: 'Present only on an as-of read (asOf or recordedAsOf given)' }) asOf?: AsOfEcho;
}

function filterOf(p: EntitlementFilterParams) {
  return {
    ...(p.status !== undefined ? { status: p.status } : {}),
    ...(p.productId !== undefined ? { productId: p.productId } : {}),
    ...(p.expiringWithinDays !== undefined ? { expiringWithinDays: p.expiringWithinDays } : {}),
  };
}

@ApiTags('entitlements')
@Access('entitlements:read')
@Controller('v1')
export class ListEntitlementsController {
  constructor(private readonly queries: QueryBus) {}

  @Get('customers/:customerId/entitlements')
  @ApiOperation({
    summary: 'What a customer owns (read model), oldest grant first',
    description:
      'With asOf and/or recordedAsOf: what the customer owned as the ledger, as of recordedAsOf, believed it stood at asOf. ' +
      'The customer\'s entitlements are listed from the read model (minPosition applies to that), each one\'s state folded from ' +
      'its event stream; those not in force then are left out, and `status` filters the state as of then. A page examines ' +
      '`limit` entitlements and returns those that remain, so it may hold fewer (even none) while `nextCursor` is not null: ' +
      'read on until it is. `expiringWithinDays` does not combine with as-of.',
  })
  @ApiOkResponse({ type: EntitlementPageResponse })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED (bad filter, cursor, asOf or recordedAsOf; expiringWithinDays with as-of)' })
  @ApiServiceUnavailableResponse({ description: 'READ_MODEL.BEHIND: minPosition not reached in time' })
  byCustomer(@Param('customerId', IdParamPipe) customerId: string, @QueryParams() p: CustomerEntitlementsParams, @Ctx() ctx: RequestContext): Promise<EntitlementPage | EntitlementAsOfPage> {
    const scope = customerFilter(ctx.principal, customerId);
    if (!isAsOfRead(p)) return this.queries.execute(new ListEntitlementsQuery(ctx.principal, { ...scope, ...filterOf(p) }, pageOf(p), p.minPosition));
    if (p.expiringWithinDays !== undefined) {
      throw validationFailed([{ path: 'expiringWithinDays', message: 'expiringWithinDays cannot be combined with asOf or recordedAsOf', constraint: 'withoutAsOf' }]);
    }
    const filter = { ...(p.status !== undefined ? { status: p.status } : {}), ...(p.productId !== undefined ? { productId: p.productId } : {}) };
    return this.queries.execute(new ListCustomerEntitlementsAsOfQuery(ctx.principal, customerId, filter, pageOf(p), { asOf: p.asOf, recordedAsOf: p.recordedAsOf }, p.minPosition));
  }

  @Get('entitlements')
  @ApiOperation({ summary: 'Search entitlements across customers (operators): by customer, status, product, expiring within N days' })
  @ApiOkResponse({ type: EntitlementPageResponse })
  @ApiServiceUnavailableResponse({ description: 'READ_MODEL.BEHIND: minPosition not reached in time' })
  search(@QueryParams() p: SearchEntitlementsParams, @Ctx() ctx: RequestContext): Promise<EntitlementPage> {
    return this.queries.execute(new ListEntitlementsQuery(ctx.principal, { ...customerFilter(ctx.principal, p.customerId), ...filterOf(p) }, pageOf(p), p.minPosition));
  }
}
