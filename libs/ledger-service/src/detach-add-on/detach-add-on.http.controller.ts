import { Controller, Delete, HttpCode, Param, Query, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiConflictResponse, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Ctx, IdParamPipe, IsText, OptionalField, type RequestContext, textApi, Access } from '@el/platform';
import { AcceptsIfMatch, EntitlementWriteResponse } from '../entitlements/entitlement.view';
import { writeResponse } from '../entitlements/write-response';
import { DetachAddOnCommand } from './detach-add-on.command';

export class DetachAddOnQuery {
  @ApiPropertyOptional({ description: 'Why (at most 500 characters); defaults to who detached it', ...textApi(500) }) @OptionalField() @IsText(500) reason?: string;
}

@ApiTags('entitlements')
@AcceptsIfMatch()
@Access('entitlements:manage')
@Controller('v1/entitlements')
export class DetachAddOnController {
  constructor(private readonly commands: CommandBus) {}

  @Delete(':id/add-ons/:sku')
  @HttpCode(200)
  @ApiOperation({ summary: 'Detach an add-on' })
  @ApiOkResponse({ type: EntitlementWriteResponse })
  @ApiConflictResponse({ description: 'ADD_ON.NOT_ATTACHED' })
  async detach(
    @Param('id', IdParamPipe) id: string,
    @Param('sku', IdParamPipe) sku: string,
    @Query() q: DetachAddOnQuery,
    @Ctx() ctx: RequestContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<EntitlementWriteResponse> {
    const reason = q.reason ?? `detached by ${ctx.actor.type}:${ctx.actor.id}`;
    return writeResponse(reply, await this.commands.execute(new DetachAddOnCommand(id, sku, reason, ctx)));
  }
}
