import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBody, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { Ctx, IdParamPipe, type RequestContext } from '@el/platform';
import { EntitlementApi } from '../entitlements/entitlement-api';
import { AcceptsIfMatch, EntitlementWriteResponse } from '../entitlements/entitlement.view';

export class SuspendDto {
  @ApiProperty({ example: 'invoice 2026-118 unpaid' }) @IsString() @IsNotEmpty() @MaxLength(500) reason!: string;
}
export class ReinstateDto {
  @ApiPropertyOptional({ example: 'paid' }) @IsOptional() @IsString() @MaxLength(500) reason?: string;
}

@ApiTags('entitlements')
@AcceptsIfMatch()
@Controller('v1/entitlements')
export class SuspendEntitlementController {
  constructor(private readonly api: EntitlementApi) {}

  @Post(':id/suspend')
  @HttpCode(200)
  @ApiOperation({ summary: 'Suspend: checks answer SUSPENDED until reinstated' })
  @ApiBody({ type: SuspendDto })
  @ApiOkResponse({ type: EntitlementWriteResponse })
  @ApiConflictResponse({ description: 'ENTITLEMENT.ALREADY_SUSPENDED, ENTITLEMENT.EXPIRED, ENTITLEMENT.ALREADY_REVOKED' })
  suspend(@Param('id', IdParamPipe) id: string, @Body() dto: SuspendDto, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.api.apply(id, ctx, reply, (metadata) => ({ type: 'SuspendEntitlement', data: { reason: dto.reason }, metadata }));
  }

  @Post(':id/reinstate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reinstate a suspended entitlement' })
  @ApiBody({ type: ReinstateDto, required: false })
  @ApiOkResponse({ type: EntitlementWriteResponse })
  @ApiConflictResponse({ description: 'ENTITLEMENT.NOT_SUSPENDED' })
  reinstate(@Param('id', IdParamPipe) id: string, @Body() dto: ReinstateDto, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.api.apply(id, ctx, reply, (metadata) => ({ type: 'ReinstateEntitlement', data: { reason: dto?.reason ?? 'reinstated' }, metadata }));
  }
}
