import { Controller, Get, Param, Query as QueryParams } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IdParamPipe, Access } from '@el/platform';
import { ReadParams } from '../infrastructure/read-params';
import { GetOrderQuery } from './get-order.query';

@ApiTags('orders')
@Access('orders:read')
@Controller('v1/orders')
export class GetOrderController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':orderId')
  @ApiOperation({ summary: 'An order as received, and its outcome (read model; pass the position of the POST as minPosition to read it at once)' })
  @ApiNotFoundResponse({ description: 'ORDER.NOT_FOUND' })
  get(@Param('orderId', IdParamPipe) orderId: string, @QueryParams() p: ReadParams): Promise<Record<string, unknown>> {
    return this.queries.execute(new GetOrderQuery(orderId, p.minPosition));
  }
}
