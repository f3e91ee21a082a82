import { Body, Controller, Delete, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBody, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiQuery, ApiTags } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { Ctx, IdParamPipe, type RequestContext } from '@el/platform';
import { CatalogService } from '../infrastructure/catalog.service';
import { EntitlementApi } from '../entitlements/entitlement-api';
import { AcceptsIfMatch, EntitlementWriteResponse } from '../entitlements/entitlement.view';

export class AttachAddOnDto {
  @ApiProperty({ example: 'ANL-ADDON-AI' }) @IsString() sku!: string;
  @ApiPropertyOptional({ default: 1, description: 'Units; raised limits and caps scale with the total bought' })
  @IsOptional() @IsInt() @Min(1) @Max(1_000_000) quantity?: number;
}

export class DetachAddOnQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(500) reason?: string;
}

@ApiTags('entitlements')
@AcceptsIfMatch()
@Controller('v1/entitlements')
export class ManageAddOnsController {
  constructor(private readonly api: EntitlementApi, private readonly catalog: CatalogService) {}

  @Post(':id/add-ons')
  @HttpCode(200)
  @ApiOperation({ summary: 'Attach an add-on (buying the same add-on again adds to its quantity)' })
  @ApiBody({ type: AttachAddOnDto })
  @ApiOkResponse({ type: EntitlementWriteResponse })
  @ApiConflictResponse({ description: 'ADD_ON.PRODUCT_MISMATCH, ENTITLEMENT.*' })
  attach(@Param('id', IdParamPipe) id: string, @Body() dto: AttachAddOnDto, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply) {
    const catalog = this.catalog.current();
    return this.api.apply(id, ctx, reply, (metadata) => ({ type: 'AttachAddOn', data: { catalog, sku: dto.sku, quantity: dto.quantity ?? 1 }, metadata }));
  }

  @Delete(':id/add-ons/:sku')
  @HttpCode(200)
  @ApiOperation({ summary: 'Detach an add-on' })
  @ApiQuery({ name: 'reason', required: false })
  @ApiOkResponse({ type: EntitlementWriteResponse })
  @ApiConflictResponse({ description: 'ADD_ON.NOT_ATTACHED' })
  detach(
    @Param('id', IdParamPipe) id: string,
    @Param('sku') sku: string,
    @Query() q: DetachAddOnQuery,
    @Ctx() ctx: RequestContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.api.apply(id, ctx, reply, (metadata) => ({ type: 'DetachAddOn', data: { sku, reason: q.reason ?? `detached by ${ctx.actor.type}:${ctx.actor.id}` }, metadata }));
  }
}
