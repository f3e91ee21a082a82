import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Ctx, IdParamPipe, IsText, OptionalField, type RequestContext, textApi, Access } from '@el/platform';
import { AcceptsIfMatch, EntitlementWriteResponse } from '../entitlements/entitlement.view';
import { writeResponse } from '../entitlements/write-response';
import { ReinstateEntitlementCommand } from './reinstate-entitlement.command';

export class ReinstateDto {
  @ApiPropertyOptional({ example: 'paid', ...textApi(500) }) @OptionalField() @IsText(500) reason?: string;
}

@ApiTags('entitlements')
@AcceptsIfMatch()
@Access('entitlements:manage')
@Controller('v1/entitlements')
export class ReinstateEntitlementController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':id/reinstate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reinstate a suspended entitlement' })
  @ApiBody({ type: ReinstateDto, required: false })
  @ApiOkResponse({ type: EntitlementWriteResponse })
  @ApiConflictResponse({ description: 'ENTITLEMENT.NOT_SUSPENDED' })
  async reinstate(@Param('id', IdParamPipe) id: string, @Body() dto: ReinstateDto, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply): Promise<EntitlementWriteResponse> {
    return writeResponse(reply, await this.commands.execute(new ReinstateEntitlementCommand(id, dto?.reason ?? 'reinstated', ctx)));
  }
}
