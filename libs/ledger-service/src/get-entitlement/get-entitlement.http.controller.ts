import { Controller, Get, Param, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Access, Ctx, IdParamPipe, type RequestContext } from '@el/platform';
import { EntitlementView } from '../entitlements/entitlement.view';
import { GetEntitlementQuery } from './get-entitlement.query';

@ApiTags('entitlements')
@Access('entitlements:read')
@Controller('v1/entitlements')
export class GetEntitlementController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':id')
  @ApiOperation({ summary: 'An entitlement\'s current state, from its event stream; ETag = stream revision (use it as If-Match)' })
  @ApiOkResponse({ type: EntitlementView })
  @ApiNotFoundResponse({ description: 'ENTITLEMENT.NOT_FOUND' })
  async get(@Param('id', IdParamPipe) id: string, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply): Promise<EntitlementView> {
    const view = await this.queries.execute(new GetEntitlementQuery(id, ctx.principal));
    void reply.header('etag', `"${view.revision}"`);
    return view;
  }
}
