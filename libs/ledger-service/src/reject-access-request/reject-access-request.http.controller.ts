import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiConflictResponse, ApiNotFoundResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Ctx, IdParamPipe, IsText, type RequestContext, textApi, Access } from '@el/platform';
import type { AccessRequestResult } from '../access-requests/access-request.repository';
import { RejectAccessRequestCommand } from './reject-access-request.command';

export class RejectDto {
  @ApiProperty({ example: 'no budget this quarter', ...textApi(1000) }) @IsText(1000, { required: true }) reason!: string;
}

@ApiTags('access requests')
@Access('access-requests:decide')
@Controller('v1/access-requests')
export class RejectAccessRequestController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':id/reject')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reject (the approver is the credential\'s principal)' })
  @ApiBody({ type: RejectDto })
  @ApiNotFoundResponse({ description: 'ACCESS_REQUEST.NOT_FOUND' })
  @ApiConflictResponse({ description: 'ACCESS_REQUEST.ALREADY_DECIDED' })
  reject(@Param('id', IdParamPipe) id: string, @Body() dto: RejectDto, @Ctx() ctx: RequestContext): Promise<AccessRequestResult> {
    return this.commands.execute(new RejectAccessRequestCommand(id, dto.reason, ctx));
  }
}
