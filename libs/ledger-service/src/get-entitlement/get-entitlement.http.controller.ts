import { Controller, Get, Param, Query as QueryParams, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Access, Ctx, IdParamPipe, type RequestContext } from '@el/platform';
import { AsOfParams, EntitlementAsOfView, isAsOfRead } from '../entitlements/as-of';
import type { EntitlementView } from '../entitlements/entitlement.view';
import { GetEntitlementAsOfQuery } from './get-entitlement-as-of.query';
import { GetEntitlementQuery } from './get-entitlement.query';

@ApiTags('entitlements')
@Access('entitlements:read')
@Controller('v1/entitlements')
export class GetEntitlementController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':id')
  @ApiOperation({
    summary: 'An entitlement\'s current state, from its event stream; ETag = stream revision (use it as If-Match)',
    description:
      'With asOf and/or recordedAsOf: the entitlement as the ledger, as of recordedAsOf, believed it stood at asOf, folded from ' +
      'its event stream, with the same fields plus an `asOf` echo of the question; `revision` is the stream revision reached by ' +
      'recordedAsOf, and no ETag is sent (a past state is no basis for a write). 404 when it was not in force then.',
  })
  @ApiOkResponse({ type: EntitlementAsOfView })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED (asOf or recordedAsOf not an ISO-8601 date-time with offset)' })
  @ApiNotFoundResponse({ description: 'ENTITLEMENT.NOT_FOUND (also: not in force at asOf as recorded by recordedAsOf)' })
  async get(@Param('id', IdParamPipe) id: string, @QueryParams() p: AsOfParams, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply): Promise<EntitlementView | EntitlementAsOfView> {
    if (isAsOfRead(p)) return this.queries.execute(new GetEntitlementAsOfQuery(id, ctx.principal, { asOf: p.asOf, recordedAsOf: p.recordedAsOf }));
    const view = await this.queries.execute(new GetEntitlementQuery(id, ctx.principal));
    void reply.header('etag', `"${view.revision}"`);
    return view;
  }
}
