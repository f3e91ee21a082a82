import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Clock } from '@el/platform';
import { LEDGER_CONFIG, type LedgerConfig } from '../ledger.config';
import { commandMetadata, systemContext } from '../infrastructure/command-metadata';
import { ApiKeyLog } from './api-key-log';

/** ADMIN_API_KEY_FILE, or `admin-api-key` under DATA_DIR. */
export function adminKeyFile(config: { readonly ADMIN_API_KEY_FILE: string; readonly DATA_DIR?: string }): string {
  return resolve(config.ADMIN_API_KEY_FILE || join(config.DATA_DIR ?? './data', 'admin-api-key'));
}

/**
 * The first start of an installation creates an admin API key and writes it
 * to ADMIN_API_KEY_FILE (mode 0600), so the API is never open and a newcomer
 * still needs no setup: `KEY=$(cat data/admin-api-key)`. The key is printed
 * nowhere (the log names the file); later starts find the key log non-empty
 * and do nothing.
 */
@Injectable()
export class AdminKeyBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger('api-keys');

  constructor(
    private readonly log: ApiKeyLog,
    private readonly clock: Clock,
    @Inject(LEDGER_CONFIG) private readonly config: LedgerConfig & { DATA_DIR?: string },
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.log.keys.size > 0) return;
    const meta = commandMetadata(systemContext('first-start', 'first-start'), this.clock);
    const created = await this.log.keys.createFirst({ name: 'first-start admin', role: 'admin' }, meta);
    if (!created) return;
    const file = adminKeyFile(this.config);
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, `${created.key}\n`, { mode: 0o600 });
      chmodSync(tmp, 0o600);
      renameSync(tmp, file);
    } catch (err) {
      throw new Error(
        `created the first admin API key (${created.record.keyId}) but could not write it to ${file} (ADMIN_API_KEY_FILE): ${(err as Error).message}. ` +
          'Revoke it and create another with `npm run apikey -- revoke ' + created.record.keyId + '` and `npm run apikey -- create --role admin --name admin`.',
      );
    }
    this.logger.log({ keyId: created.record.keyId, file }, 'first start: created an admin API key and wrote it to a file only its owner can read');
    process.stdout.write(`\nFirst start: an admin API key is in ${file} (mode 0600).\n  KEY=$(cat ${file}); curl -H "Authorization: Bearer $KEY" …\n`);
  }
}
