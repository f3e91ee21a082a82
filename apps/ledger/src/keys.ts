import { eventStoreConfigSpec } from '@el/event-store';
import { keystoreDir, ledgerConfigSpec } from '@el/ledger-service';
import { configReader, Keystore, runMain } from '@el/platform';
import { existsSync } from 'node:fs';
import { calculateJwkThumbprint } from 'jose';
import { join } from 'node:path';

/**
 * npm run keys:rotate — creates a new Ed25519 signing key in KEYSTORE_DIR
 * (default DATA_DIR/keys) and
 * retires the current one; running ledger processes sign with the new key from
 * their next token, and the old key stays in the JWKS for
 * TOKEN_KEY_OVERLAP_DAYS so tokens it signed keep verifying.
 * npm run keys:list — shows the keys and their state.
 */
runMain('keys', async () => {
  const command = process.argv[2] ?? 'list';
  if (command !== 'rotate' && command !== 'list') throw Object.assign(new Error(`unknown command "${command}" (use rotate or list)`), { name: 'ConfigError' });
  const config = configReader({ DATA_DIR: eventStoreConfigSpec.DATA_DIR, KEYSTORE_DIR: ledgerConfigSpec.KEYSTORE_DIR, TOKEN_KEY_OVERLAP_DAYS: ledgerConfigSpec.TOKEN_KEY_OVERLAP_DAYS, KEYSTORE_ALLOW_SHARED_READ: ledgerConfigSpec.KEYSTORE_ALLOW_SHARED_READ })();
  const KEYSTORE_DIR = keystoreDir(config);
  const { TOKEN_KEY_OVERLAP_DAYS } = config;
  const now = new Date();
  const existed = existsSync(join(KEYSTORE_DIR, 'keystore.json'));
  const keystore = await Keystore.open(KEYSTORE_DIR, { create: command === 'rotate', overlapDays: TOKEN_KEY_OVERLAP_DAYS, now, allowSharedRead: config.KEYSTORE_ALLOW_SHARED_READ });
  if (command === 'rotate') {
    // Opening a keystore that did not exist already created its first key.
    const kid = existed ? await keystore.rotate(now) : keystore.list(now).at(-1)!.kid;
    process.stdout.write(`new signing key ${kid} in ${keystore.path}\n`);
  }
  // Thumbprints (RFC 7638) are what SDKs pin (trustedKeys): a key is trusted by what it is, not by where it was read.
  const thumbprints = new Map<string, string>();
  for (const jwk of keystore.jwks(now).keys) thumbprints.set(jwk.kid, await calculateJwkThumbprint(jwk, 'sha256'));
  for (const k of keystore.list(now)) {
    const pin = thumbprints.get(k.kid);
    process.stdout.write(`${k.kid.padEnd(22)} ${k.state.padEnd(10)} created ${k.createdAt}${k.retiredAt ? `, retired ${k.retiredAt}` : ''}${pin ? `  thumbprint ${pin}` : ''}\n`);
  }
});
