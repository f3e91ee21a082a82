import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiPreconditionFailedResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsInt, Max, Min } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { Ctx, IdParamPipe, integerApi, IsSku, OptionalField, type RequestContext, SKU_API, Access } from '@el/platform';
import { AcceptsIfMatch, EntitlementWriteResponse } from '../entitlements/entitlement.view';
import { writeResponse } from '../entitlements/write-response';
import { ChangePlanCommand } from './change-plan.command';

export class ChangePlanDto {
  @ApiProperty({ example: 'ANL-ENT', description: 'Target plan SKU of the same product', ...SKU_API }) @IsSku() sku!: string;
  @ApiPropertyOptional({ description: 'Units after the change; seats = quantity × seats per unit. Omit to keep the seat count.', ...integerApi(1, 1_000_000) })
  @OptionalField() @Min(1) @Max(1_000_000) @IsInt() quantity?: number;
  @ApiPropertyOptional({ enum: ['upgrade', 'downgrade'], description: 'Asserts the direction; the change is refused if the tiers say otherwise' })
  @OptionalField() @IsIn(['upgrade', 'downgrade']) direction?: 'upgrade' | 'downgrade';
}

@ApiTags('entitlements')
@AcceptsIfMatch()
@Access('entitlements:manage')
@Controller('v1/entitlements')
export class ChangePlanController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':id/change-plan')
  @HttpCode(200)
  @ApiOperation({ summary: 'Upgrade or downgrade to another plan of the same product; the event carries the feature and limit delta' })
  @ApiBody({ type: ChangePlanDto })
  @ApiOkResponse({ type: EntitlementWriteResponse })
  @ApiConflictResponse({ description: 'PLAN.SAME_PLAN, PLAN.PRODUCT_MISMATCH, PLAN.NOT_AN_UPGRADE, PLAN.NOT_A_DOWNGRADE, SEATS.BELOW_ASSIGNED, DEVICE.ABOVE_LIMIT, ENTITLEMENT.*' })
  @ApiPreconditionFailedResponse({ description: 'CONCURRENCY.STALE_REVISION' })
  async changePlan(@Param('id', IdParamPipe) id: string, @Body() dto: ChangePlanDto, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply): Promise<EntitlementWriteResponse> {
    return writeResponse(reply, await this.commands.execute(new ChangePlanCommand(id, dto.sku, dto.quantity, dto.direction, ctx)));
  }
}
