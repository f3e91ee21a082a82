import { Inject, Injectable } from '@nestjs/common';
import { API_KEY_DIRECTORY, StoreApiKeys, type ApiKeyDirectory } from '@el/identity';

/** The ledger's API key log (the event store's `api-keys` stream), for the use cases that write and list it. */
@Injectable()
export class ApiKeyLog {
  readonly keys: StoreApiKeys;
  constructor(@Inject(API_KEY_DIRECTORY) directory: ApiKeyDirectory) {
    if (!(directory instanceof StoreApiKeys)) throw new Error('the ledger reads API keys from its event store: compose IdentityModule with keys from the store');
    this.keys = directory;
  }
}
