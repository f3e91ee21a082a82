import { Controller, Get, Param, Query as QueryParams } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import type { EntitlementStatus } from '@el/domain';
import { Access, Ctx, ID_API, IdParamPipe, integerApi, IsIdentifier, type RequestContext } from '@el/platform';
import { EntitlementView } from '../entitlements/entitlement.view';
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

export class SearchEntitlementsParams extends EntitlementFilterParams {
  @ApiPropertyOptional({ ...ID_API }) @IsOptional() @IsIdentifier('customerId') customerId?: string;
}

class EntitlementPageResponse {
  @ApiProperty({ description: 'Global position this answer includes' }) position!: number;
  @ApiProperty({ type: [EntitlementView] }) items!: EntitlementView[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as cursor for the next page; null on the last page' }) nextCursor!: string | null;
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
  @ApiOperation({ summary: 'What a customer owns (read model), oldest grant first' })
  @ApiOkResponse({ type: EntitlementPageResponse })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED (bad filter or cursor)' })
  @ApiServiceUnavailableResponse({ description: 'READ_MODEL.BEHIND: minPosition not reached in time' })
  byCustomer(@Param('customerId', IdParamPipe) customerId: string, @QueryParams() p: EntitlementFilterParams, @Ctx() ctx: RequestContext): Promise<EntitlementPage> {
    return this.queries.execute(new ListEntitlementsQuery(ctx.principal, { ...customerFilter(ctx.principal, customerId), ...filterOf(p) }, pageOf(p), p.minPosition));
  }

  @Get('entitlements')
  @ApiOperation({ summary: 'Search entitlements across customers (operators): by customer, status, product, expiring within N days' })
  @ApiOkResponse({ type: EntitlementPageResponse })
  @ApiServiceUnavailableResponse({ description: 'READ_MODEL.BEHIND: minPosition not reached in time' })
  search(@QueryParams() p: SearchEntitlementsParams, @Ctx() ctx: RequestContext): Promise<EntitlementPage> {
    return this.queries.execute(new ListEntitlementsQuery(ctx.principal, { ...customerFilter(ctx.principal, p.customerId), ...filterOf(p) }, pageOf(p), p.minPosition));
  }
}
