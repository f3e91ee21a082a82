import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Clock } from '@el/platform';
import { ApiKeyLog } from '../api-keys/api-key-log';
import { toApiKeyView, type ApiKeyView } from '../api-keys/api-key.view';
import { commandMetadata } from '../infrastructure/command-metadata';
import { RevokeApiKeyCommand } from './revoke-api-key.command';

@CommandHandler(RevokeApiKeyCommand)
export class RevokeApiKeyHandler implements ICommandHandler<RevokeApiKeyCommand, ApiKeyView> {
  constructor(
    private readonly log: ApiKeyLog,
    private readonly clock: Clock,
  ) {}

  async execute(c: RevokeApiKeyCommand): Promise<ApiKeyView> {
    return toApiKeyView(await this.log.keys.revoke(c.keyId, c.reason, commandMetadata(c.context, this.clock)));
  }
}
