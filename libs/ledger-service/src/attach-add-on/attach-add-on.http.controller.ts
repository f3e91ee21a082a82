import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { Ctx, IdParamPipe, integerApi, IsSku, OptionalField, type RequestContext, SKU_API, Access } from '@el/platform';
import { AcceptsIfMatch, EntitlementWriteResponse } from '../entitlements/entitlement.view';
import { writeResponse } from '../entitlements/write-response';
import { AttachAddOnCommand } from './attach-add-on.command';

export class AttachAddOnDto {
  @ApiProperty({ example: 'ANL-ADDON-AI', ...SKU_API }) @IsSku() sku!: string;
  @ApiPropertyOptional({ default: 1, description: 'Units; raised limits and caps scale with the total bought', ...integerApi(1, 1_000_000) })
  @OptionalField() @Min(1) @Max(1_000_000) @IsInt() quantity?: number;
}

@ApiTags('entitlements')
@AcceptsIfMatch()
@Access('entitlements:manage')
@Controller('v1/entitlements')
export class AttachAddOnController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':id/add-ons')
  @HttpCode(200)
  @ApiOperation({ summary: 'Attach an add-on (buying the same add-on again adds to its quantity)' })
  @ApiBody({ type: AttachAddOnDto })
  @ApiOkResponse({ type: EntitlementWriteResponse })
  @ApiConflictResponse({ description: 'ADD_ON.PRODUCT_MISMATCH, ENTITLEMENT.*' })
  @ApiUnprocessableEntityResponse({ description: 'CATALOG.UNKNOWN_SKU, CATALOG.NOT_AN_ADD_ON' })
  async attach(@Param('id', IdParamPipe) id: string, @Body() dto: AttachAddOnDto, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply): Promise<EntitlementWriteResponse> {
    return writeResponse(reply, await this.commands.execute(new AttachAddOnCommand(id, dto.sku, dto.quantity ?? 1, ctx)));
  }
}
