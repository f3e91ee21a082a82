import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, Max, Min, ValidateNested } from 'class-validator';
import { ORDER_ACTIONS, type OrderAction } from '@el/domain';
import { ID_PATTERN, ID_RULE } from '@el/platform';

export class OrderLineDto {
  @ApiProperty({ example: '10' }) @IsString() @Matches(ID_PATTERN, { message: `lineId must be ${ID_RULE}` }) lineId!: string;
  @ApiProperty({ example: 'ANL-PRO' }) @IsString() sku!: string;
  @ApiProperty({ example: 5 }) @IsInt() @Min(1) @Max(1_000_000) quantity!: number;
  @ApiProperty({ enum: ORDER_ACTIONS }) @IsIn(ORDER_ACTIONS as OrderAction[]) action!: OrderAction;
  @ApiPropertyOptional({ description: 'The entitlement the line changes; required for every action but new' })
  @IsOptional() @IsString() @Matches(ID_PATTERN, { message: `entitlementId must be ${ID_RULE}` }) entitlementId?: string;
}

export class PlaceOrderDto {
  @ApiProperty({ example: 'SO-2026-0001', description: 'The ERP\'s order id: the order is applied once per id' })
  @IsString() @Matches(ID_PATTERN, { message: `orderId must be ${ID_RULE}` }) orderId!: string;
  @ApiProperty({ example: 'cust-42' }) @IsString() @Matches(ID_PATTERN, { message: `customerId must be ${ID_RULE}` }) customerId!: string;
  @ApiPropertyOptional({ example: '2026-12-01T00:00:00Z', description: 'When the order takes effect; defaults to when it is received' })
  @IsOptional() @IsISO8601({ strict: true }) effectiveAt?: string;
  @ApiProperty({ type: [OrderLineDto] })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(500) @ValidateNested({ each: true }) @Type(() => OrderLineDto) lines!: OrderLineDto[];
}

export class OrderLineResultView {
  @ApiProperty() lineId!: string;
  @ApiProperty({ enum: ORDER_ACTIONS }) action!: string;
  @ApiProperty() sku!: string;
  @ApiProperty() entitlementId!: string;
  @ApiProperty({ enum: ['fulfilled', 'failed'] }) status!: string;
  @ApiProperty({ type: [String] }) events!: string[];
  @ApiPropertyOptional() code?: string;
  @ApiPropertyOptional() message?: string;
}

export class OrderOutcomeView {
  @ApiProperty() orderId!: string;
  @ApiProperty() customerId!: string;
  @ApiProperty({ enum: ['fulfilled'] }) status!: string;
  @ApiProperty() partial!: boolean;
  @ApiProperty({ type: [OrderLineResultView] }) lines!: OrderLineResultView[];
  @ApiProperty() effectiveAt!: string;
  @ApiProperty() catalogVersion!: number;
  @ApiProperty() revision!: number;
  @ApiProperty({ description: 'Pass as minPosition to read the order\'s effects from any query' }) position!: number;
  @ApiProperty({ description: 'True when this order had been handled before' }) replayed!: boolean;
}
