import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Ctx, IdParamPipe, IsText, type RequestContext, textApi, Access } from '@el/platform';
import { AcceptsIfMatch, EntitlementWriteResponse } from '../entitlements/entitlement.view';
import { writeResponse } from '../entitlements/write-response';
import { RevokeEntitlementCommand } from './revoke-entitlement.command';

export class RevokeDto {
  @ApiProperty({ example: 'chargeback', ...textApi(500) }) @IsText(500, { required: true }) reason!: string;
}

@ApiTags('entitlements')
@AcceptsIfMatch()
@Access('entitlements:manage')
@Controller('v1/entitlements')
export class RevokeEntitlementController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':id/revoke')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke for good: a revoked entitlement never changes again' })
  @ApiBody({ type: RevokeDto })
  @ApiOkResponse({ type: EntitlementWriteResponse })
  @ApiConflictResponse({ description: 'ENTITLEMENT.ALREADY_REVOKED' })
  async revoke(@Param('id', IdParamPipe) id: string, @Body() dto: RevokeDto, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply): Promise<EntitlementWriteResponse> {
    return writeResponse(reply, await this.commands.execute(new RevokeEntitlementCommand(id, dto.reason, ctx)));
  }
}
