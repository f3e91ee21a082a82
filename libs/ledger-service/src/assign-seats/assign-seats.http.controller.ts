import { Body, Controller, Delete, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBody, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { Ctx, ID_PATTERN, ID_RULE, IdParamPipe, type RequestContext } from '@el/platform';
import { EntitlementApi } from '../entitlements/entitlement-api';
import { AcceptsIfMatch, EntitlementWriteResponse } from '../entitlements/entitlement.view';

export class AssignSeatDto {
  @ApiProperty({ example: 'alice@example.com' }) @IsString() @Matches(ID_PATTERN, { message: `userId must be ${ID_RULE}` }) userId!: string;
}

@ApiTags('seats and devices')
@AcceptsIfMatch()
@Controller('v1/entitlements')
export class AssignSeatsController {
  constructor(private readonly api: EntitlementApi) {}

  @Post(':id/seat-assignments')
  @HttpCode(200)
  @ApiOperation({ summary: 'Assign a seat to a user (never more than the seat count)' })
  @ApiBody({ type: AssignSeatDto })
  @ApiOkResponse({ type: EntitlementWriteResponse })
  @ApiConflictResponse({ description: 'SEAT.NONE_AVAILABLE, SEAT.ALREADY_ASSIGNED, ENTITLEMENT.*' })
  assign(@Param('id', IdParamPipe) id: string, @Body() dto: AssignSeatDto, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.api.apply(id, ctx, reply, (metadata) => ({ type: 'AssignSeat', data: { userId: dto.userId }, metadata }));
  }

  @Delete(':id/seat-assignments/:userId')
  @HttpCode(200)
  @ApiOperation({ summary: 'Release a user\'s seat; the user\'s devices are deactivated with it' })
  @ApiOkResponse({ type: EntitlementWriteResponse })
  @ApiConflictResponse({ description: 'SEAT.NOT_ASSIGNED' })
  release(@Param('id', IdParamPipe) id: string, @Param('userId', IdParamPipe) userId: string, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.api.apply(id, ctx, reply, (metadata) => ({ type: 'ReleaseSeat', data: { userId }, metadata }));
  }
}
