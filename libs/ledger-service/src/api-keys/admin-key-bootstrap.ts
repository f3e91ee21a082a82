import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { chmodSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { newApiKey } from '@el/identity';
import { Clock, ConfigError } from '@el/platform';
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
    const file = adminKeyFile(this.config);
    if (this.log.keys.size > 0) {
      this.warnIfShared(file);
      return;
    }
    // The file first, the event second: a key that was recorded but could not be handed over would lock everyone out.
    const secret = newApiKey();
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      writeFileSync(tmp, `${secret.key}\n`, { mode: 0o600 });
      chmodSync(tmp, 0o600);
    } catch (err) {
      throw new ConfigError([{ variable: 'ADMIN_API_KEY_FILE', message: `the first start cannot write the admin API key to ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (nothing was created; fix the path or its permissions and start again)` }]);
    }
    const meta = commandMetadata(systemContext('first-start', 'first-start'), this.clock);
    const created = await this.log.keys.createFirst({ name: 'first-start admin', role: 'admin' }, meta, secret).catch((err: unknown) => {
      rmSync(tmp, { force: true });
      throw err;
    });
    if (!created) {
      // Another process of this installation made the first key at the same moment.
      rmSync(tmp, { force: true });
      return;
    }
    renameSync(tmp, file);
    this.logger.log({ keyId: created.record.keyId, file }, 'first start: created an admin API key and wrote it to a file only its owner can read');
    process.stdout.write(`\nFirst start: an admin API key is in ${file} (mode 0600).\n  KEY=$(cat ${file}); curl -H "Authorization: Bearer $KEY" …\n`);
  }

  private warnIfShared(file: string): void {
    try {
      const mode = statSync(file).mode & 0o777;
      if ((mode & 0o077) !== 0) this.logger.warn({ file, mode: mode.toString(8) }, 'the admin API key file is readable by others: chmod 600 it, or revoke the key if others may have read it');
    } catch {
      /* no file (keys were made another way, or it was moved away): nothing to say */
    }
  }
}
