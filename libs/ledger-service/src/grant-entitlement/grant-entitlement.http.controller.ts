import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiCreatedResponse, ApiHeader, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { IsInt, IsISO8601, Max, Min } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { Ctx, deterministicId, ID_API, IdGenerator, integerApi, IsIdentifier, IsSku, OptionalField, type RequestContext, SKU_API, Access } from '@el/platform';
import { EntitlementWriteResponse } from '../entitlements/entitlement.view';
import { writeResponse } from '../entitlements/write-response';
import { GrantEntitlementCommand } from './grant-entitlement.command';

export class GrantEntitlementDto {
  @ApiProperty({ example: 'cust-42', ...ID_API }) @IsIdentifier('customerId') customerId!: string;
  @ApiProperty({ example: 'ANL-PRO', description: 'A plan SKU from the catalog', ...SKU_API }) @IsSku() sku!: string;
  @ApiPropertyOptional({ default: 1, description: 'Units bought; seats = quantity × the plan\'s seats per unit', ...integerApi(1, 1_000_000) })
  @OptionalField() @Min(1) @Max(1_000_000) @IsInt() quantity?: number;
  @ApiPropertyOptional({ example: '2026-12-01T00:00:00Z', description: 'Start of validity; defaults to now' })
  @OptionalField() @IsISO8601({ strict: true }) validFrom?: string;
}

@ApiTags('entitlements')
@Access('entitlements:grant')
@Controller('v1/entitlements')
export class GrantEntitlementController {
  constructor(
    private readonly commands: CommandBus,
    private readonly ids: IdGenerator,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Grant an entitlement by hand (operators); ERP purchases go through POST /v1/orders' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'A retry with the same key returns the original grant (200)' })
  @ApiBody({ type: GrantEntitlementDto })
  @ApiCreatedResponse({ type: EntitlementWriteResponse })
  @ApiUnprocessableEntityResponse({ description: 'CATALOG.UNKNOWN_SKU, CATALOG.NOT_A_PLAN, IDEMPOTENCY.KEY_REUSED' })
  async grant(@Body() dto: GrantEntitlementDto, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply): Promise<EntitlementWriteResponse> {
    // With an Idempotency-Key the entitlement id follows from the key, so a retry finds the first grant.
    const entitlementId = ctx.idempotencyKey ? deterministicId('entitlement', 'idempotency', ctx.idempotencyKey) : this.ids.random();
    const result = await this.commands.execute(new GrantEntitlementCommand(entitlementId, dto.customerId, dto.sku, dto.quantity ?? 1, dto.validFrom, ctx));
    if (result.replayed) void reply.status(200);
    return writeResponse(reply, result);
  }
}
