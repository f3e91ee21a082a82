import { Controller, Delete, HttpCode, Param, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiConflictResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Ctx, IdParamPipe, type RequestContext, Access } from '@el/platform';
import { AcceptsIfMatch, EntitlementWriteResponse } from '../entitlements/entitlement.view';
import { writeResponse } from '../entitlements/write-response';
import { DeactivateDeviceCommand } from './deactivate-device.command';

@ApiTags('seats and devices')
@AcceptsIfMatch()
@Access('devices:manage')
@Controller('v1/entitlements')
export class DeactivateDeviceController {
  constructor(private readonly commands: CommandBus) {}

  @Delete(':id/devices/:deviceId')
  @HttpCode(200)
  @ApiOperation({ summary: 'Deactivate a device, freeing its slot' })
  @ApiOkResponse({ type: EntitlementWriteResponse })
  @ApiConflictResponse({ description: 'DEVICE.NOT_ACTIVE' })
  async deactivate(@Param('id', IdParamPipe) id: string, @Param('deviceId', IdParamPipe) deviceId: string, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply): Promise<EntitlementWriteResponse> {
    return writeResponse(reply, await this.commands.execute(new DeactivateDeviceCommand(id, deviceId, ctx)));
  }
}
