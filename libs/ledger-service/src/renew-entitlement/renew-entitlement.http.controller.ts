import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { Ctx, IdParamPipe, integerApi, OptionalField, type RequestContext, Access } from '@el/platform';
import { AcceptsIfMatch, EntitlementWriteResponse } from '../entitlements/entitlement.view';
import { writeResponse } from '../entitlements/write-response';
import { RenewEntitlementCommand } from './renew-entitlement.command';

export class RenewDto {
  @ApiPropertyOptional({ default: 1, description: 'How many terms to add', ...integerApi(1, 100) }) @OptionalField() @Min(1) @Max(100) @IsInt() periods?: number;
}

@ApiTags('entitlements')
@AcceptsIfMatch()
@Access('entitlements:manage')
@Controller('v1/entitlements')
export class RenewEntitlementController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':id/renew')
  @HttpCode(200)
  @ApiOperation({ summary: 'Renew for more terms: continues from the current end when renewed before grace ends, else from now; reactivates an expired entitlement' })
  @ApiBody({ type: RenewDto, required: false })
  @ApiOkResponse({ type: EntitlementWriteResponse })
  @ApiConflictResponse({ description: 'ENTITLEMENT.PERPETUAL, ENTITLEMENT.ALREADY_REVOKED' })
  async renew(@Param('id', IdParamPipe) id: string, @Body() dto: RenewDto, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply): Promise<EntitlementWriteResponse> {
    return writeResponse(reply, await this.commands.execute(new RenewEntitlementCommand(id, dto?.periods ?? 1, ctx)));
  }
}
