import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBody, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { Ctx, IdParamPipe, type RequestContext } from '@el/platform';
import { EntitlementApi } from '../entitlements/entitlement-api';
import { AcceptsIfMatch, EntitlementWriteResponse } from '../entitlements/entitlement.view';

export class RenewDto {
  @ApiPropertyOptional({ default: 1, description: 'How many terms to add' }) @IsOptional() @IsInt() @Min(1) @Max(100) periods?: number;
}

@ApiTags('entitlements')
@AcceptsIfMatch()
@Controller('v1/entitlements')
export class RenewEntitlementController {
  constructor(private readonly api: EntitlementApi) {}

  @Post(':id/renew')
  @HttpCode(200)
  @ApiOperation({ summary: 'Renew for more terms: continues from the current end when renewed before grace ends, else from now; reactivates an expired entitlement' })
  @ApiBody({ type: RenewDto, required: false })
  @ApiOkResponse({ type: EntitlementWriteResponse })
  @ApiConflictResponse({ description: 'ENTITLEMENT.PERPETUAL, ENTITLEMENT.ALREADY_REVOKED' })
  renew(@Param('id', IdParamPipe) id: string, @Body() dto: RenewDto, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.api.apply(id, ctx, reply, (metadata) => ({ type: 'RenewEntitlement', data: { periods: dto?.periods ?? 1 }, metadata }));
  }
}
