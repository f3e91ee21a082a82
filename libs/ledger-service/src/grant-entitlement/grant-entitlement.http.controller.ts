import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiConflictResponse, ApiCreatedResponse, ApiHeader, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { IsInt, IsISO8601, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { Ctx, deterministicId, ID_PATTERN, ID_RULE, IdGenerator, type RequestContext } from '@el/platform';
import { CatalogService } from '../infrastructure/catalog.service';
import { ApplyEntitlementCommand } from '../entitlements/apply-entitlement-command';
import { EntitlementWriteResponse } from '../entitlements/entitlement.view';
import { writeResponse } from '../entitlements/write-response';

export class GrantEntitlementDto {
  @ApiProperty({ example: 'cust-42' }) @IsString() @Matches(ID_PATTERN, { message: `customerId must be ${ID_RULE}` }) customerId!: string;
  @ApiProperty({ example: 'ANL-PRO', description: 'A plan SKU from the catalog' }) @IsString() sku!: string;
  @ApiPropertyOptional({ default: 1, description: 'Units bought; seats = quantity × the plan\'s seats per unit' })
  @IsOptional() @IsInt() @Min(1) @Max(1_000_000) quantity?: number;
  @ApiPropertyOptional({ example: '2026-12-01T00:00:00Z', description: 'Start of validity; defaults to now' })
  @IsOptional() @IsISO8601({ strict: true }) validFrom?: string;
}

@ApiTags('entitlements')
@Controller('v1/entitlements')
export class GrantEntitlementController {
  constructor(
    private readonly commands: CommandBus,
    private readonly catalog: CatalogService,
    private readonly ids: IdGenerator,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Grant an entitlement by hand (operators); ERP purchases go through POST /v1/orders' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'A retry with the same key returns the original grant (200)' })
  @ApiBody({ type: GrantEntitlementDto })
  @ApiCreatedResponse({ type: EntitlementWriteResponse })
  @ApiUnprocessableEntityResponse({ description: 'CATALOG.UNKNOWN_SKU, CATALOG.NOT_A_PLAN' })
  @ApiConflictResponse({ description: 'ENTITLEMENT.ALREADY_EXISTS' })
  async grant(@Body() dto: GrantEntitlementDto, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply): Promise<EntitlementWriteResponse> {
    // With an Idempotency-Key the entitlement id follows from the key, so a retry finds the first grant.
    const entitlementId = ctx.idempotencyKey ? deterministicId('entitlement', 'idempotency', ctx.idempotencyKey) : this.ids.random();
    const catalog = this.catalog.current();
    const result = await this.commands.execute(
      new ApplyEntitlementCommand(
        entitlementId,
        (metadata) => ({
          type: 'GrantEntitlement',
          data: { entitlementId, customerId: dto.customerId, catalog, sku: dto.sku, quantity: dto.quantity ?? 1, ...(dto.validFrom ? { validFrom: new Date(dto.validFrom).toISOString() } : {}), origin: { kind: 'manual' } },
          metadata,
        }),
        ctx,
      ),
    );
    if (result.replayed) void reply.status(200);
    return writeResponse(reply, result);
  }
}
