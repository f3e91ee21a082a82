import { Controller, Get, Param } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Access, Ctx, IdParamPipe, type RequestContext } from '@el/platform';
import { GetAccessRequestQuery, type AccessRequestView } from './get-access-request.query';

@ApiTags('access requests')
@Access('access-requests:read')
@Controller('v1/access-requests')
export class GetAccessRequestController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':id')
  @ApiOperation({ summary: 'One access request, its decision and whether the grant was carried out (fulfilledAt)' })
  @ApiNotFoundResponse({ description: 'ACCESS_REQUEST.NOT_FOUND' })
  get(@Param('id', IdParamPipe) id: string, @Ctx() ctx: RequestContext): Promise<AccessRequestView> {
    return this.queries.execute(new GetAccessRequestQuery(id, ctx.principal));
  }
}
