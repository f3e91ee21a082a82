import { Controller, Get, Param, Query as QueryParams } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Min } from 'class-validator';
import type { EntitlementStatus } from '@el/domain';
import { IdParamPipe } from '@el/platform';
import { EntitlementView } from '../entitlements/entitlement.view';
import { ListCustomerEntitlementsQuery, type CustomerEntitlements } from './list-customer-entitlements.query';

export class ListEntitlementsParams {
  @ApiPropertyOptional({ enum: ['active', 'suspended', 'expired', 'revoked'] })
  @IsOptional() @IsIn(['active', 'suspended', 'expired', 'revoked']) status?: EntitlementStatus;
  @ApiPropertyOptional() @IsOptional() @IsString() productId?: string;
  @ApiPropertyOptional({ description: 'Position returned by a write: the answer waits until it includes that write (503 READ_MODEL.BEHIND if it cannot within QUERY_WAIT_MS)' })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) minPosition?: number;
}

class CustomerEntitlementsResponse {
  @ApiProperty() customerId!: string;
  @ApiProperty({ description: 'Global position this answer reflects' }) position!: number;
  @ApiProperty({ type: [EntitlementView] }) items!: EntitlementView[];
}

@ApiTags('entitlements')
@Controller('v1/customers')
export class ListCustomerEntitlementsController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':customerId/entitlements')
  @ApiOperation({ summary: 'What a customer owns' })
  @ApiOkResponse({ type: CustomerEntitlementsResponse })
  @ApiServiceUnavailableResponse({ description: 'READ_MODEL.BEHIND: minPosition not reached in time' })
  list(@Param('customerId', IdParamPipe) customerId: string, @QueryParams() params: ListEntitlementsParams): Promise<CustomerEntitlements> {
    return this.queries.execute(new ListCustomerEntitlementsQuery(customerId, params));
  }
}
