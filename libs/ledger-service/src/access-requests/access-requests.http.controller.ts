import { Body, Controller, Get, HttpCode, Param, Post, Query as QueryParams, Res } from '@nestjs/common';
import { ApiBody, ApiConflictResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiHeader, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import type { FastifyReply } from 'fastify';
import type { AccessRequestState } from '@el/domain';
import { ApiException, Clock, Ctx, deterministicId, ID_PATTERN, ID_RULE, IdGenerator, IdParamPipe, type RequestContext } from '@el/platform';
import { QueryBus } from '@nestjs/cqrs';
import { commandMetadata } from '../infrastructure/command-metadata';
import { pageOf, ReadParams } from '../list-entitlements/read-params';
import { ListAccessRequestsQuery, type AccessRequestPage } from '../list-access-requests/list-access-requests.query';
import { AccessRequestProcess, type AccessRequestResult } from './access-request-process';

export class RequestAccessDto {
  @ApiProperty({ example: 'cust-42' }) @IsString() @Matches(ID_PATTERN, { message: `customerId must be ${ID_RULE}` }) customerId!: string;
  @ApiProperty({ example: 'ANL-ENT', description: 'A plan SKU (grants a new entitlement) or an add-on SKU (extends entitlementId)' }) @IsString() sku!: string;
  @ApiPropertyOptional({ default: 1 }) @IsOptional() @IsInt() @Min(1) @Max(1_000_000) quantity?: number;
  @ApiProperty({ example: 'the data team needs SSO' }) @IsString() @IsNotEmpty() @MaxLength(1000) reason!: string;
  @ApiPropertyOptional({ description: 'Required for add-on requests' })
  @IsOptional() @IsString() @Matches(ID_PATTERN, { message: `entitlementId must be ${ID_RULE}` }) entitlementId?: string;
  @ApiPropertyOptional({ description: 'Defaults to the caller (X-Actor id)' })
  @IsOptional() @IsString() @Matches(ID_PATTERN, { message: `requestedBy must be ${ID_RULE}` }) requestedBy?: string;
}
export class ApproveDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1000) comment?: string;
}
export class RejectDto {
  @ApiProperty({ example: 'no budget this quarter' }) @IsString() @IsNotEmpty() @MaxLength(1000) reason!: string;
}
export class ListAccessRequestsParams extends ReadParams {
  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(ID_PATTERN) customerId?: string;
  @ApiPropertyOptional({ enum: ['pending', 'approved', 'rejected'], default: 'pending' })
  @IsOptional() @IsIn(['pending', 'approved', 'rejected']) status?: 'pending' | 'approved' | 'rejected';
}

@ApiTags('access requests')
@Controller('v1/access-requests')
export class AccessRequestsController {
  constructor(
    private readonly process: AccessRequestProcess,
    private readonly queries: QueryBus,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Ask for access to a plan or add-on; an approver other than the requester decides' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'A retry with the same key returns the original request (200)' })
  @ApiBody({ type: RequestAccessDto })
  @ApiCreatedResponse({ description: '{requestId, status: pending, revision, position}' })
  async request(@Body() dto: RequestAccessDto, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply): Promise<AccessRequestResult> {
    const requestId = ctx.idempotencyKey ? deterministicId('access-request', ctx.idempotencyKey) : this.ids.random();
    const result = await this.process.request(
      {
        requestId,
        customerId: dto.customerId,
        sku: dto.sku,
        quantity: dto.quantity ?? 1,
        reason: dto.reason,
        requestedBy: dto.requestedBy ?? ctx.actor.id,
        ...(dto.entitlementId ? { entitlementId: dto.entitlementId } : {}),
      },
      commandMetadata(ctx, this.clock),
      ctx.idempotencyKey ? `idempotency:${ctx.idempotencyKey}` : this.ids.random(),
    );
    if (result.replayed) void reply.status(200);
    return result;
  }

  @Post(':id/approve')
  @HttpCode(200)
  @ApiOperation({ summary: 'Approve (the approver is the caller, X-Actor): grants the plan or attaches the add-on' })
  @ApiBody({ type: ApproveDto, required: false })
  @ApiOkResponse({ description: '{requestId, status: approved, entitlementId, entitlementEvents, position}' })
  @ApiForbiddenResponse({ description: 'ACCESS_REQUEST.SELF_APPROVAL' })
  @ApiConflictResponse({ description: 'ACCESS_REQUEST.ALREADY_DECIDED, or why the grant cannot happen' })
  approve(@Param('id', IdParamPipe) id: string, @Body() dto: ApproveDto, @Ctx() ctx: RequestContext): Promise<AccessRequestResult> {
    return this.process.approve(id, dto?.comment ?? '', commandMetadata(ctx, this.clock));
  }

  @Post(':id/reject')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reject (the approver is the caller, X-Actor)' })
  @ApiBody({ type: RejectDto })
  @ApiConflictResponse({ description: 'ACCESS_REQUEST.ALREADY_DECIDED' })
  reject(@Param('id', IdParamPipe) id: string, @Body() dto: RejectDto, @Ctx() ctx: RequestContext): Promise<AccessRequestResult> {
    return this.process.reject(id, dto.reason, commandMetadata(ctx, this.clock));
  }

  @Get()
  @ApiOperation({ summary: 'Access requests awaiting a decision (or decided, with status), oldest first (read model)' })
  list(@QueryParams() p: ListAccessRequestsParams): Promise<AccessRequestPage> {
    return this.queries.execute(new ListAccessRequestsQuery({ status: p.status ?? 'pending', ...(p.customerId ? { customerId: p.customerId } : {}) }, pageOf(p), p.minPosition));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One access request and its decision' })
  @ApiNotFoundResponse({ description: 'ACCESS_REQUEST.NOT_FOUND' })
  async get(@Param('id', IdParamPipe) id: string): Promise<AccessRequestState & { revision: number }> {
    const { state, revision } = await this.process.get(id);
    if (state.status === 'none') throw new ApiException(404, 'ACCESS_REQUEST.NOT_FOUND', `access request ${id} does not exist`);
    return { ...state, revision };
  }
}
