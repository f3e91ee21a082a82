import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBody, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { Ctx, IdParamPipe, type RequestContext } from '@el/platform';
import { EntitlementApi } from '../entitlements/entitlement-api';
import { AcceptsIfMatch, EntitlementWriteResponse } from '../entitlements/entitlement.view';

export class RevokeDto {
  @ApiProperty({ example: 'chargeback' }) @IsString() @IsNotEmpty() @MaxLength(500) reason!: string;
}

@ApiTags('entitlements')
@AcceptsIfMatch()
@Controller('v1/entitlements')
export class RevokeEntitlementController {
  constructor(private readonly api: EntitlementApi) {}

  @Post(':id/revoke')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke for good: a revoked entitlement never changes again' })
  @ApiBody({ type: RevokeDto })
  @ApiOkResponse({ type: EntitlementWriteResponse })
  @ApiConflictResponse({ description: 'ENTITLEMENT.ALREADY_REVOKED' })
  revoke(@Param('id', IdParamPipe) id: string, @Body() dto: RevokeDto, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.api.apply(id, ctx, reply, (metadata) => ({ type: 'RevokeEntitlement', data: { reason: dto.reason }, metadata }));
  }
}
