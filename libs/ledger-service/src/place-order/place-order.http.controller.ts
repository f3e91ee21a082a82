import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiBody, ApiConflictResponse, ApiCreatedResponse, ApiHeader, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { erpOrderSchemaV1, type ErpOrderV1 } from '@el/contracts';
import { ORDER_ACTIONS } from '@el/domain';
import { CodedError, Ctx, JsonSchemaPipe, openApiSchema, type RequestContext, Access } from '@el/platform';
import type { OrderOutcome } from './order-process';
import { PlaceOrderCommand } from './place-order.command';

export class OrderLineResultView {
  @ApiProperty() lineId!: string;
  @ApiProperty({ enum: ORDER_ACTIONS }) action!: string;
  @ApiProperty() sku!: string;
  @ApiProperty() entitlementId!: string;
  @ApiProperty({ enum: ['fulfilled', 'failed'] }) status!: string;
  @ApiProperty({ type: [String] }) events!: string[];
  @ApiPropertyOptional() code?: string;
  @ApiPropertyOptional() message?: string;
}

export class OrderOutcomeView {
  @ApiProperty() orderId!: string;
  @ApiProperty() customerId!: string;
  @ApiProperty({ enum: ['fulfilled'] }) status!: string;
  @ApiProperty() partial!: boolean;
  @ApiProperty({ type: [OrderLineResultView] }) lines!: OrderLineResultView[];
  @ApiProperty() effectiveAt!: string;
  @ApiProperty() catalogVersion!: number;
  @ApiProperty() revision!: number;
  @ApiProperty({ description: 'Pass as minPosition to read the order\'s effects from any query' }) position!: number;
  @ApiProperty({ description: 'True when this order had been handled before' }) replayed!: boolean;
}

@ApiTags('orders')
@Access('orders:place')
@Controller('v1/orders')
export class PlaceOrderController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Submit an ERP order (the same JSON as a message on erp.orders.v1)',
    description:
      'Applied once per orderId: resubmitting the same order returns the original outcome (200, replayed: true); the same orderId with a different payload is refused (409 ORDER.PAYLOAD_MISMATCH). ' +
      'Every line is validated against the catalog and the entitlements it touches before anything changes: an order that cannot be fulfilled is rejected as a whole, the rejection is recorded, ' +
      'and the answer carries the failing rule\'s code and status (422 CATALOG.UNKNOWN_SKU, 404 ENTITLEMENT.NOT_FOUND, 409 SEATS.BELOW_ASSIGNED, …) with details.orderId and details.lineId.',
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Held to the first request that used it: a retry passes, the key with another request is 422 IDEMPOTENCY.KEY_REUSED. Orders are idempotent by orderId in any case.' })
  @ApiBody({ schema: openApiSchema(erpOrderSchemaV1) as object })
  @ApiCreatedResponse({ type: OrderOutcomeView, description: 'Fulfilled now' })
  @ApiOkResponse({ type: OrderOutcomeView, description: 'Fulfilled before (replayed)' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED with field paths such as lines[0].quantity' })
  @ApiUnprocessableEntityResponse({ description: 'Rejected: CATALOG.*, ORDER.INVALID_LINE (details.lineId), IDEMPOTENCY.KEY_REUSED' })
  @ApiNotFoundResponse({ description: 'Rejected: ENTITLEMENT.NOT_FOUND (details.lineId)' })
  @ApiConflictResponse({ description: 'ORDER.PAYLOAD_MISMATCH, or rejected because of an entitlement\'s state (details.lineId)' })
  async place(@Body(new JsonSchemaPipe(erpOrderSchemaV1)) order: ErpOrderV1, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply): Promise<OrderOutcome> {
    const result = await this.commands.execute(new PlaceOrderCommand(order, ctx));
    if (result.status === 'rejected') {
      const r = result.rejection!;
      // The rejection's own code decides the status, as it would on any other endpoint.
      throw new CodedError(r.code, r.message, {
        orderId: result.orderId,
        ...(r.lineId ? { lineId: r.lineId } : {}),
        ...(r.details ?? {}),
        position: result.position,
        replayed: result.replayed,
      });
    }
    if (result.replayed) void reply.status(200);
    return result;
  }
}
