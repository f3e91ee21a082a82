import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiCreatedResponse, ApiHeader, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { Ctx, deterministicId, ID_API, IdGenerator, integerApi, IsIdentifier, IsSku, IsText, OptionalField, type RequestContext, SKU_API, textApi, Access } from '@el/platform';
import type { AccessRequestResult } from '../access-requests/access-request.repository';
import { RequestAccessCommand } from './request-access.command';

export class RequestAccessDto {
  @ApiProperty({ example: 'cust-42', ...ID_API }) @IsIdentifier('customerId') customerId!: string;
  @ApiProperty({ example: 'ANL-ENT', description: 'A plan SKU (grants a new entitlement) or an add-on SKU (extends entitlementId)', ...SKU_API }) @IsSku() sku!: string;
  @ApiPropertyOptional({ default: 1, ...integerApi(1, 1_000_000) }) @OptionalField() @Min(1) @Max(1_000_000) @IsInt() quantity?: number;
  @ApiProperty({ example: 'the data team needs SSO', ...textApi(1000) }) @IsText(1000, { required: true }) reason!: string;
  @ApiPropertyOptional({ description: 'Required for add-on requests', ...ID_API }) @OptionalField() @IsIdentifier('entitlementId') entitlementId?: string;
}

@ApiTags('access requests')
@Access('access-requests:create')
@Controller('v1/access-requests')
export class RequestAccessController {
  constructor(
    private readonly commands: CommandBus,
    private readonly ids: IdGenerator,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Ask for access to a plan or add-on; the requester is the credential\'s principal, and an approver other than the requester decides' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'A retry with the same key returns the original request (200); the key with another request is 422 IDEMPOTENCY.KEY_REUSED' })
  @ApiBody({ type: RequestAccessDto })
  @ApiCreatedResponse({ description: '{requestId, status: pending, revision, position}' })
  @ApiUnprocessableEntityResponse({ description: 'CATALOG.UNKNOWN_SKU, CATALOG.NOT_A_PLAN (an add-on without entitlementId), IDEMPOTENCY.KEY_REUSED' })
  async request(@Body() dto: RequestAccessDto, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply): Promise<AccessRequestResult> {
    // With an Idempotency-Key the request id follows from the key, so a retry finds the first request.
    const requestId = ctx.idempotencyKey ? deterministicId('access-request', ctx.idempotencyKey) : this.ids.random();
    const result = await this.commands.execute(
      new RequestAccessCommand(requestId, dto.customerId, dto.sku, dto.quantity ?? 1, dto.reason, dto.entitlementId, ctx),
    );
    if (result.replayed) void reply.status(200);
    return result;
  }
}
