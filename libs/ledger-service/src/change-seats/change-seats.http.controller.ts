import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { Ctx, IdParamPipe, integerApi, type RequestContext, Access } from '@el/platform';
import { AcceptsIfMatch, EntitlementWriteResponse } from '../entitlements/entitlement.view';
import { writeResponse } from '../entitlements/write-response';
import { ChangeSeatsCommand } from './change-seats.command';

export class ChangeSeatsDto {
  @ApiProperty({ example: 10, description: 'The new total seat count', ...integerApi(1, 10_000_000) }) @Min(1) @Max(10_000_000) @IsInt() seats!: number;
}

@ApiTags('entitlements')
@AcceptsIfMatch()
@Access('entitlements:manage')
@Controller('v1/entitlements')
export class ChangeSeatsController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':id/seats')
  @HttpCode(200)
  @ApiOperation({ summary: 'Change the seat count; reducing below the assigned seats is refused with how many to release' })
  @ApiBody({ type: ChangeSeatsDto })
  @ApiOkResponse({ type: EntitlementWriteResponse })
  @ApiConflictResponse({ description: 'SEATS.BELOW_ASSIGNED (details.release), DEVICE.ABOVE_LIMIT, ENTITLEMENT.*' })
  async change(@Param('id', IdParamPipe) id: string, @Body() dto: ChangeSeatsDto, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply): Promise<EntitlementWriteResponse> {
    return writeResponse(reply, await this.commands.execute(new ChangeSeatsCommand(id, dto.seats, ctx)));
  }
}
