import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { permissionsOf, type Principal } from '@el/platform';
import type { Session } from './session.view';

/** Who the caller is: its principal, as the credential established it, and what its role may do. */
export class GetSessionQuery extends Query<Session> {
  constructor(readonly principal: Principal) {
    super();
  }
}

@QueryHandler(GetSessionQuery)
export class GetSessionHandler implements IQueryHandler<GetSessionQuery, Session> {
  async execute({ principal: p }: GetSessionQuery): Promise<Session> {
    return { id: p.id, kind: p.kind, role: p.role, name: p.name, customers: p.customers === null ? null : [...p.customers], permissions: permissionsOf(p.role) };
  }
}
