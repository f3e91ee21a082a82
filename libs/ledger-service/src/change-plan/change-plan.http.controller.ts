import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBody, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiPreconditionFailedResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { Ctx, IdParamPipe, type RequestContext } from '@el/platform';
import { CatalogService } from '../infrastructure/catalog.service';
import { EntitlementApi } from '../entitlements/entitlement-api';
import { AcceptsIfMatch, EntitlementWriteResponse } from '../entitlements/entitlement.view';

export class ChangePlanDto {
  @ApiProperty({ example: 'ANL-ENT', description: 'Target plan SKU of the same product' }) @IsString() sku!: string;
  @ApiPropertyOptional({ description: 'Units after the change; seats = quantity × seats per unit. Omit to keep the seat count.' })
  @IsOptional() @IsInt() @Min(1) @Max(1_000_000) quantity?: number;
  @ApiPropertyOptional({ enum: ['upgrade', 'downgrade'], description: 'Asserts the direction; the change is refused if the tiers say otherwise' })
  @IsOptional() @IsIn(['upgrade', 'downgrade']) direction?: 'upgrade' | 'downgrade';
}

@ApiTags('entitlements')
@AcceptsIfMatch()
@Controller('v1/entitlements')
export class ChangePlanController {
  constructor(private readonly api: EntitlementApi, private readonly catalog: CatalogService) {}

  @Post(':id/change-plan')
  @HttpCode(200)
  @ApiOperation({ summary: 'Upgrade or downgrade to another plan of the same product; the event carries the feature and limit delta' })
  @ApiBody({ type: ChangePlanDto })
  @ApiOkResponse({ type: EntitlementWriteResponse })
  @ApiConflictResponse({ description: 'PLAN.SAME_PLAN, PLAN.PRODUCT_MISMATCH, PLAN.NOT_AN_UPGRADE, PLAN.NOT_A_DOWNGRADE, SEATS.BELOW_ASSIGNED, DEVICE.ABOVE_LIMIT, ENTITLEMENT.*' })
  @ApiPreconditionFailedResponse({ description: 'CONCURRENCY.STALE_REVISION' })
  changePlan(@Param('id', IdParamPipe) id: string, @Body() dto: ChangePlanDto, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply) {
    const catalog = this.catalog.current();
    return this.api.apply(id, ctx, reply, (metadata) => ({
      type: 'ChangePlan',
      data: { catalog, sku: dto.sku, ...(dto.quantity !== undefined ? { quantity: dto.quantity } : {}), ...(dto.direction ? { direction: dto.direction } : {}) },
      metadata,
    }));
  }
}
