import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ApiKeyLog } from '../api-keys/api-key-log';
import { toApiKeyView, type ApiKeyView } from '../api-keys/api-key.view';

/** Every API key ever created (revoked ones with when, by whom and why), oldest first. */
export class ListApiKeysQuery extends Query<{ items: ApiKeyView[] }> {
  constructor(readonly includeRevoked: boolean) {
    super();
  }
}

@QueryHandler(ListApiKeysQuery)
export class ListApiKeysHandler implements IQueryHandler<ListApiKeysQuery, { items: ApiKeyView[] }> {
  constructor(private readonly log: ApiKeyLog) {}

  async execute(q: ListApiKeysQuery): Promise<{ items: ApiKeyView[] }> {
    await this.log.keys.refresh();
    return { items: this.log.keys.list().filter((k) => q.includeRevoked || k.revokedAt === null).map(toApiKeyView) };
  }
}
