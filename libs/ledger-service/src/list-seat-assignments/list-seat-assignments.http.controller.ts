import { Controller, Get, Param, Query as QueryParams } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Access, Ctx, IdParamPipe, type RequestContext } from '@el/platform';
import { pageOf, ReadParams } from '../infrastructure/read-params';
import { ListSeatAssignmentsQuery, type SeatAssignmentPage } from './list-seat-assignments.query';

@ApiTags('seats and devices')
@Access('entitlements:read')
@Controller('v1/entitlements')
export class ListSeatAssignmentsController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':id/seat-assignments')
  @ApiOperation({ summary: 'Who holds a seat on an entitlement, and since when (read model)' })
  @ApiOkResponse({ description: '{position, items: [{userId, assignedAt}], nextCursor}' })
  list(@Param('id', IdParamPipe) id: string, @QueryParams() p: ReadParams, @Ctx() ctx: RequestContext): Promise<SeatAssignmentPage> {
    return this.queries.execute(new ListSeatAssignmentsQuery(id, ctx.principal, pageOf(p), p.minPosition));
  }
}
