import { parseArgs } from 'node:util';
import { API_KEY_ROLES, type ApiKeyRole } from '@el/domain';
import { existsSync } from 'node:fs';
import { eventStoreConfigSpec, eventStorePath, openEventStore } from '@el/event-store';
import { StoreApiKeys } from '@el/identity';
import { ConfigError, configReader, runMain } from '@el/platform';
import { userInfo } from 'node:os';

const USAGE = `usage: npm run apikey -- <command>
  create --role <role> --name <name> [--customer <id>] [--customers <id,id,…>]
         roles: ${API_KEY_ROLES.join(', ')}; customer-admin and customer-user need --customer;
         a service key may be limited to --customers. Prints the key once.
  list [--all]                     keys (never their secrets); --all includes revoked ones
  revoke <keyId> --reason <text>   every process refuses it within API_KEY_REFRESH_MS
The event store is the one the ledger uses (DATA_DIR, or EVENT_STORE=esdb with ESDB_URL).`;

/**
 * npm run apikey -- create | list | revoke: API keys straight in the event
 * store, for the first admin of a fresh installation, automation and
 * break-glass access. Each creation and revocation is an event whose actor is
 * `cli:<OS user>`; running processes pick them up within API_KEY_REFRESH_MS.
 */
runMain('apikey', async () => {
  const usage = (message: string) => new ConfigError([{ variable: 'arguments', message: `${message}\n${USAGE}` }]);
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { role: { type: 'string' }, name: { type: 'string' }, customer: { type: 'string' }, customers: { type: 'string' }, reason: { type: 'string' }, all: { type: 'boolean' }, help: { type: 'boolean' } },
    });
  } catch (err) {
    throw usage((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, keyId] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const config = configReader(eventStoreConfigSpec)();
  // A mistyped DATA_DIR must not become a new, empty installation whose keys work nowhere.
  if (config.EVENT_STORE === 'sqlite' && !existsSync(eventStorePath(config))) {
    throw new ConfigError([{ variable: 'DATA_DIR', message: `no event store at ${eventStorePath(config)}: point DATA_DIR at the installation's data (start it once with npm start first)` }]);
  }
  const store = openEventStore(config);
  const keys = new StoreApiKeys(store, 0);
  const meta = () => ({ now: new Date().toISOString(), correlationId: `cli-${process.pid}`, causationId: `cli-${process.pid}`, actor: { type: 'operator' as const, id: `cli:${userInfo().username}` }, source: 'system' as const });
  try {
    await keys.refresh();
    switch (command) {
      case 'create': {
        if (!values.role || !(API_KEY_ROLES as readonly string[]).includes(values.role)) throw usage(`--role must be one of ${API_KEY_ROLES.join(', ')}`);
        if (!values.name) throw usage('--name is required (what the key is for)');
        // --customers given but empty (an unset shell variable) is an error, never "every customer".
        const listed = values.customers !== undefined ? values.customers.split(',').map((c) => c.trim()) : null;
        if (listed !== null && listed.some((c) => c === '')) throw usage('--customers must list customer ids separated by commas (an empty one was given); leave it out for a key that sees every customer');
        const customers = values.customer !== undefined ? [values.customer, ...(listed ?? [])] : listed;
        const { key, record } = await keys.create({ name: values.name, role: values.role as ApiKeyRole, customers }, meta());
        process.stderr.write(`created ${record.role} key ${record.keyId} "${record.name}"${record.customers ? ` for ${record.customers.join(', ')}` : ''}; it is shown once:\n`);
        process.stdout.write(`${key}\n`);
        return;
      }
      case 'list': {
        for (const k of keys.list().filter((k) => values.all || k.revokedAt === null)) {
          process.stdout.write(
            `${k.keyId}  ${k.role.padEnd(14)} ${k.name.padEnd(24)} ${k.customers ? k.customers.join(',') : 'all customers'}  created ${k.createdAt} by ${k.createdBy}${k.revokedAt ? `  REVOKED ${k.revokedAt} by ${k.revokedBy}: ${k.revokeReason}` : ''}\n`,
          );
        }
        return;
      }
      case 'revoke': {
        if (!keyId) throw usage('revoke needs the key id (npm run apikey -- list)');
        if (!values.reason) throw usage('--reason is required (it is recorded)');
        const record = await keys.revoke(keyId, values.reason, meta());
        process.stdout.write(`revoked ${record.keyId} at ${record.revokedAt}\n`);
        return;
      }
      default:
        throw usage(`unknown command "${command}"`);
    }
  } catch (err) {
    // A refused command (unknown key, already revoked, bad scope) is the user's to fix, not a crash.
    const code = (err as { code?: string }).code;
    if (typeof code === 'string' && (code.startsWith('API_KEY.') || code === 'VALIDATION_FAILED')) throw new ConfigError([{ variable: 'arguments', message: `${code}: ${(err as Error).message}` }]);
    throw err;
  } finally {
    await store.close();
  }
});
