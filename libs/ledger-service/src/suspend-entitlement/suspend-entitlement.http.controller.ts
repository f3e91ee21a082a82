import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Ctx, IdParamPipe, IsText, type RequestContext, textApi, Access } from '@el/platform';
import { AcceptsIfMatch, EntitlementWriteResponse } from '../entitlements/entitlement.view';
import { writeResponse } from '../entitlements/write-response';
import { SuspendEntitlementCommand } from './suspend-entitlement.command';

export class SuspendDto {
  @ApiProperty({ example: 'invoice 2026-118 unpaid', ...textApi(500) }) @IsText(500, { required: true }) reason!: string;
}

@ApiTags('entitlements')
@AcceptsIfMatch()
@Access('entitlements:manage')
@Controller('v1/entitlements')
export class SuspendEntitlementController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':id/suspend')
  @HttpCode(200)
  @ApiOperation({ summary: 'Suspend: checks answer SUSPENDED until reinstated' })
  @ApiBody({ type: SuspendDto })
  @ApiOkResponse({ type: EntitlementWriteResponse })
  @ApiConflictResponse({ description: 'ENTITLEMENT.ALREADY_SUSPENDED, ENTITLEMENT.EXPIRED, ENTITLEMENT.ALREADY_REVOKED' })
  async suspend(@Param('id', IdParamPipe) id: string, @Body() dto: SuspendDto, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply): Promise<EntitlementWriteResponse> {
    return writeResponse(reply, await this.commands.execute(new SuspendEntitlementCommand(id, dto.reason, ctx)));
  }
}
