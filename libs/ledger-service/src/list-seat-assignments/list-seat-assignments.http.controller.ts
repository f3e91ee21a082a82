import { Controller, Get, Param, Query as QueryParams } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IdParamPipe } from '@el/platform';
import { ReadModelQueries, ReadYourWrites } from '@el/read-models';
import { pageOf, ReadParams } from '../list-entitlements/read-params';

@ApiTags('seats and devices')
@Controller('v1/entitlements')
export class ListSeatAssignmentsController {
  constructor(
    private readonly queries: ReadModelQueries,
    private readonly ryw: ReadYourWrites,
  ) {}

  @Get(':id/seat-assignments')
  @ApiOperation({ summary: 'Who holds a seat on an entitlement, and since when (read model)' })
  @ApiOkResponse({ description: '{position, items: [{userId, assignedAt}], nextCursor}' })
  async list(@Param('id', IdParamPipe) id: string, @QueryParams() p: ReadParams) {
    const position = await this.ryw.require(p.minPosition);
    const page = await this.ryw.page(() => this.queries.listSeatAssignments(id, pageOf(p)));
    return { position, items: page.items.map((s) => ({ userId: s.userId, assignedAt: s.assignedAt })), nextCursor: page.nextCursor };
  }
}
