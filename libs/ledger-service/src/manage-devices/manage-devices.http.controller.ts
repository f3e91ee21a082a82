import { Body, Controller, Delete, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBody, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { Ctx, ID_PATTERN, ID_RULE, IdParamPipe, type RequestContext } from '@el/platform';
import { EntitlementApi } from '../entitlements/entitlement-api';
import { AcceptsIfMatch, EntitlementWriteResponse } from '../entitlements/entitlement.view';

export class ActivateDeviceDto {
  @ApiProperty({ example: 'laptop-7f3a' }) @IsString() @Matches(ID_PATTERN, { message: `deviceId must be ${ID_RULE}` }) deviceId!: string;
  @ApiPropertyOptional({ description: 'The seat holder using the device; counts against their per-seat device limit' })
  @IsOptional() @IsString() @Matches(ID_PATTERN, { message: `userId must be ${ID_RULE}` }) userId?: string;
}

@ApiTags('seats and devices')
@AcceptsIfMatch()
@Controller('v1/entitlements')
export class ManageDevicesController {
  constructor(private readonly api: EntitlementApi) {}

  @Post(':id/devices')
  @HttpCode(200)
  @ApiOperation({ summary: 'Activate a device, up to devices-per-seat × seats (and per user)' })
  @ApiBody({ type: ActivateDeviceDto })
  @ApiOkResponse({ type: EntitlementWriteResponse })
  @ApiConflictResponse({ description: 'DEVICE.LIMIT_REACHED, DEVICE.ALREADY_ACTIVE, SEAT.NOT_ASSIGNED' })
  activate(@Param('id', IdParamPipe) id: string, @Body() dto: ActivateDeviceDto, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.api.apply(id, ctx, reply, (metadata) => ({ type: 'ActivateDevice', data: { deviceId: dto.deviceId, ...(dto.userId ? { userId: dto.userId } : {}) }, metadata }));
  }

  @Delete(':id/devices/:deviceId')
  @HttpCode(200)
  @ApiOperation({ summary: 'Deactivate a device, freeing its slot' })
  @ApiOkResponse({ type: EntitlementWriteResponse })
  @ApiConflictResponse({ description: 'DEVICE.NOT_ACTIVE' })
  deactivate(@Param('id', IdParamPipe) id: string, @Param('deviceId', IdParamPipe) deviceId: string, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.api.apply(id, ctx, reply, (metadata) => ({ type: 'DeactivateDevice', data: { deviceId }, metadata }));
  }
}
