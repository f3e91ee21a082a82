import { Controller, Get } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Access, Ctx, type RequestContext } from '@el/platform';
import { GetSessionQuery } from './get-session.query';
import { SessionView, type Session } from './session.view';

@ApiTags('identity')
@Controller('v1/me')
export class GetSessionController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @Access('session:read')
  @ApiOperation({ summary: 'Who the caller is: the principal of the credential (id, kind, role, name, customers) and every permission its role holds' })
  @ApiOkResponse({ type: SessionView })
  get(@Ctx() ctx: RequestContext): Promise<Session> {
    return this.queries.execute(new GetSessionQuery(ctx.principal));
  }
}
