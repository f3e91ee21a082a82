import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Ctx, ID_API, IdParamPipe, IsIdentifier, OptionalField, type RequestContext, Access } from '@el/platform';
import { AcceptsIfMatch, EntitlementWriteResponse } from '../entitlements/entitlement.view';
import { writeResponse } from '../entitlements/write-response';
import { ActivateDeviceCommand } from './activate-device.command';

export class ActivateDeviceDto {
  @ApiProperty({ example: 'laptop-7f3a', ...ID_API }) @IsIdentifier('deviceId') deviceId!: string;
  @ApiPropertyOptional({ description: 'The seat holder using the device; counts against their per-seat device limit', ...ID_API })
  @OptionalField() @IsIdentifier('userId') userId?: string;
}

@ApiTags('seats and devices')
@AcceptsIfMatch()
@Access('devices:manage')
@Controller('v1/entitlements')
export class ActivateDeviceController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':id/devices')
  @HttpCode(200)
  @ApiOperation({ summary: 'Activate a device, up to devices-per-seat × seats (and per user)' })
  @ApiBody({ type: ActivateDeviceDto })
  @ApiOkResponse({ type: EntitlementWriteResponse })
  @ApiConflictResponse({ description: 'DEVICE.LIMIT_REACHED, DEVICE.ALREADY_ACTIVE, SEAT.NOT_ASSIGNED' })
  async activate(@Param('id', IdParamPipe) id: string, @Body() dto: ActivateDeviceDto, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply): Promise<EntitlementWriteResponse> {
    return writeResponse(reply, await this.commands.execute(new ActivateDeviceCommand(id, dto.deviceId, dto.userId, ctx)));
  }
}
