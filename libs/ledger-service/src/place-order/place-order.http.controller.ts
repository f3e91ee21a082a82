import { Body, Controller, Get, HttpCode, Param, Post, Query as QueryParams, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiBody, ApiConflictResponse, ApiCreatedResponse, ApiHeader, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiException, Ctx, IdParamPipe, type RequestContext } from '@el/platform';
import { QueryBus } from '@nestjs/cqrs';
import { GetOrderQuery } from '../get-order/get-order.query';
import { ReadParams } from '../list-entitlements/read-params';
import type { OrderOutcome } from './order-process';
import { PlaceOrderCommand } from './place-order.command';
import { OrderOutcomeView, PlaceOrderDto } from './place-order.dto';

@ApiTags('orders')
@Controller('v1/orders')
export class PlaceOrderController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Submit an ERP order',
    description:
      'Applied once per orderId: resubmitting the same order returns the original outcome (200, replayed: true); the same orderId with a different payload is refused (409 ORDER.PAYLOAD_MISMATCH). ' +
      'Every line is validated against the catalog and the entitlements it touches before anything changes: an order that cannot be fulfilled is rejected as a whole (422, with the line) and the rejection is recorded.',
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Held to the first request that used it: a retry passes, the key with another request is 422 IDEMPOTENCY.KEY_REUSED. Orders are idempotent by orderId in any case.' })
  @ApiBody({ type: PlaceOrderDto })
  @ApiCreatedResponse({ type: OrderOutcomeView, description: 'Fulfilled now' })
  @ApiOkResponse({ type: OrderOutcomeView, description: 'Fulfilled before (replayed)' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED with field paths such as lines[0].quantity' })
  @ApiUnprocessableEntityResponse({ description: 'Order rejected: code of the first failing rule (CATALOG.UNKNOWN_SKU, ENTITLEMENT.NOT_FOUND, SEATS.BELOW_ASSIGNED, ...) with details.lineId' })
  @ApiConflictResponse({ description: 'ORDER.PAYLOAD_MISMATCH' })
  async place(@Body() dto: PlaceOrderDto, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply): Promise<OrderOutcome> {
    const result = await this.commands.execute(new PlaceOrderCommand(dto, ctx));
    if (result.status === 'rejected') {
      const r = result.rejection!;
      throw new ApiException(422, r.code, r.message, {
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

  @Get(':orderId')
  @ApiOperation({ summary: 'An order as received, and its outcome (read model; pass the position of the POST as minPosition to read it at once)' })
  @ApiNotFoundResponse({ description: 'ORDER.NOT_FOUND' })
  get(@Param('orderId', IdParamPipe) orderId: string, @QueryParams() p: ReadParams): Promise<Record<string, unknown>> {
    return this.queries.execute(new GetOrderQuery(orderId, p.minPosition));
  }
}
