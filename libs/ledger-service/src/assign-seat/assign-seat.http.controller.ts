import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Ctx, ID_API, IdParamPipe, IsIdentifier, type RequestContext, Access } from '@el/platform';
import { AcceptsIfMatch, EntitlementWriteResponse } from '../entitlements/entitlement.view';
import { writeResponse } from '../entitlements/write-response';
import { AssignSeatCommand } from './assign-seat.command';

export class AssignSeatDto {
  @ApiProperty({ example: 'alice@example.com', ...ID_API }) @IsIdentifier('userId') userId!: string;
}

@ApiTags('seats and devices')
@AcceptsIfMatch()
@Access('seats:manage')
@Controller('v1/entitlements')
export class AssignSeatController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':id/seat-assignments')
  @HttpCode(200)
  @ApiOperation({ summary: 'Assign a seat to a user (never more than the seat count)' })
  @ApiBody({ type: AssignSeatDto })
  @ApiOkResponse({ type: EntitlementWriteResponse })
  @ApiConflictResponse({ description: 'SEAT.NONE_AVAILABLE, SEAT.ALREADY_ASSIGNED, ENTITLEMENT.*' })
  async assign(@Param('id', IdParamPipe) id: string, @Body() dto: AssignSeatDto, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply): Promise<EntitlementWriteResponse> {
    return writeResponse(reply, await this.commands.execute(new AssignSeatCommand(id, dto.userId, ctx)));
  }
}
