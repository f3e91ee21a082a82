import { Command } from '@nestjs/cqrs';
import type { RequestContext } from '@el/platform';
import type { ApiKeyView } from '../api-keys/api-key.view';

/** Revoke an API key: every process refuses it within API_KEY_REFRESH_MS. */
export class RevokeApiKeyCommand extends Command<ApiKeyView> {
  constructor(
    readonly keyId: string,
    readonly reason: string,
    readonly context: RequestContext,
  ) {
    super();
  }
}
