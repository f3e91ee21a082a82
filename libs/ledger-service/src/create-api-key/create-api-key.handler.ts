import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Clock } from '@el/platform';
import { ApiKeyLog } from '../api-keys/api-key-log';
import { toApiKeyView } from '../api-keys/api-key.view';
import { commandMetadata } from '../infrastructure/command-metadata';
import { CreateApiKeyCommand, type CreatedApiKey } from './create-api-key.command';

@CommandHandler(CreateApiKeyCommand)
export class CreateApiKeyHandler implements ICommandHandler<CreateApiKeyCommand, CreatedApiKey> {
  constructor(
    private readonly log: ApiKeyLog,
    private readonly clock: Clock,
  ) {}

  async execute(c: CreateApiKeyCommand): Promise<CreatedApiKey> {
    const { key, record } = await this.log.keys.create({ name: c.name, role: c.role, customers: c.customers }, commandMetadata(c.context, this.clock));
    return { key, ...toApiKeyView(record) };
  }
}
