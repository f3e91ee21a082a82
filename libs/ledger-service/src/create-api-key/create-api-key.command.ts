import { Command } from '@nestjs/cqrs';
import type { ApiKeyRole } from '@el/domain';
import type { RequestContext } from '@el/platform';
import type { ApiKeyView } from '../api-keys/api-key.view';

export type CreatedApiKey = ApiKeyView & { readonly key: string };

/** Create an API key: the key is in the answer, once; the ledger keeps only its hash. */
export class CreateApiKeyCommand extends Command<CreatedApiKey> {
  constructor(
    readonly name: string,
    readonly role: ApiKeyRole,
    readonly customers: readonly string[] | null,
    readonly context: RequestContext,
  ) {
    super();
  }
}
