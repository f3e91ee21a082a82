import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiConflictResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Ctx, IdParamPipe, IsText, OptionalField, type RequestContext, textApi, Access } from '@el/platform';
import type { AccessRequestResult } from '../access-requests/access-request.repository';
import { ApproveAccessRequestCommand } from './approve-access-request.command';

export class ApproveDto {
  @ApiPropertyOptional({ ...textApi(1000) }) @OptionalField() @IsText(1000) comment?: string;
}

@ApiTags('access requests')
@Access('access-requests:decide')
@Controller('v1/access-requests')
export class ApproveAccessRequestController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':id/approve')
  @HttpCode(200)
  @ApiOperation({ summary: 'Approve (the approver is the credential\'s principal, never the requester): grants the plan or attaches the add-on' })
  @ApiBody({ type: ApproveDto, required: false })
  @ApiOkResponse({ description: '{requestId, status: approved, entitlementId, entitlementEvents, position}' })
  @ApiForbiddenResponse({ description: 'ACCESS_REQUEST.SELF_APPROVAL' })
  @ApiNotFoundResponse({ description: 'ACCESS_REQUEST.NOT_FOUND' })
  @ApiConflictResponse({ description: 'ACCESS_REQUEST.ALREADY_DECIDED, or why the grant cannot happen (ENTITLEMENT.*)' })
  approve(@Param('id', IdParamPipe) id: string, @Body() dto: ApproveDto, @Ctx() ctx: RequestContext): Promise<AccessRequestResult> {
    return this.commands.execute(new ApproveAccessRequestCommand(id, dto?.comment ?? '', ctx));
  }
}
