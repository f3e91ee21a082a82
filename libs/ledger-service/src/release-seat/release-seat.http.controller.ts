import { Controller, Delete, HttpCode, Param, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiConflictResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Ctx, IdParamPipe, type RequestContext, Access } from '@el/platform';
import { AcceptsIfMatch, EntitlementWriteResponse } from '../entitlements/entitlement.view';
import { writeResponse } from '../entitlements/write-response';
import { ReleaseSeatCommand } from './release-seat.command';

@ApiTags('seats and devices')
@AcceptsIfMatch()
@Access('seats:manage')
@Controller('v1/entitlements')
export class ReleaseSeatController {
  constructor(private readonly commands: CommandBus) {}

  @Delete(':id/seat-assignments/:userId')
  @HttpCode(200)
  @ApiOperation({ summary: 'Release a user\'s seat; the user\'s devices are deactivated with it' })
  @ApiOkResponse({ type: EntitlementWriteResponse })
  @ApiConflictResponse({ description: 'SEAT.NOT_ASSIGNED' })
  async release(@Param('id', IdParamPipe) id: string, @Param('userId', IdParamPipe) userId: string, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply): Promise<EntitlementWriteResponse> {
    return writeResponse(reply, await this.commands.execute(new ReleaseSeatCommand(id, userId, ctx)));
  }
}
