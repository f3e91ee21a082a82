import { envelope, type Command, type DomainEvent } from '../shared/envelope';
import { reject } from '../shared/errors';

/**
 * The API keys of this installation, one stream (`api-keys`): every creation
 * and revocation is an event (who, when, role, scope). The secret is never
 * stored, only its SHA-256 (the secret is 256 random bits, so the hash cannot
 * be reversed and a fast hash is safe to check on every request).
 */
export const API_KEY_ROLES = ['admin', 'operator', 'erp', 'service', 'auditor', 'customer-admin', 'customer-user'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

export type ApiKeyCreated = DomainEvent<
  'ApiKeyCreated',
  {
    keyId: string;
    name: string;
    role: ApiKeyRole;
    /** Customer roles: exactly one; `service`: an optional list; others: null (all customers). */
    customers: readonly string[] | null;
    /** SHA-256 (hex) of the whole key as shown once at creation. */
    secretSha256: string;
    createdAt: string;
  }
>;
export type ApiKeyRevoked = DomainEvent<'ApiKeyRevoked', { keyId: string; reason: string; revokedAt: string }>;
export type ApiKeyEvent = ApiKeyCreated | ApiKeyRevoked;

export type CreateApiKey = Command<'CreateApiKey', ApiKeyCreated['data']>;
export type RevokeApiKey = Command<'RevokeApiKey', { keyId: string; reason: string }>;

export interface ApiKeyRecord {
  readonly keyId: string;
  readonly name: string;
  readonly role: ApiKeyRole;
  readonly customers: readonly string[] | null;
  readonly secretSha256: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly revokedAt: string | null;
  readonly revokedBy: string | null;
  readonly revokeReason: string | null;
}

export type ApiKeys = ReadonlyMap<string, ApiKeyRecord>;
export const API_KEYS_STREAM = 'api-keys';

const CUSTOMER_ROLES: readonly ApiKeyRole[] = ['customer-admin', 'customer-user'];

export function decideCreateApiKey(command: CreateApiKey, keys: ApiKeys): ApiKeyEvent[] {
  const d = command.data;
  if (keys.has(d.keyId)) reject('API_KEY.ALREADY_EXISTS', `API key ${d.keyId} already exists`, { keyId: d.keyId });
  if (CUSTOMER_ROLES.includes(d.role) && d.customers?.length !== 1) {
    reject('API_KEY.INVALID_SCOPE', `${article(d.role)} ${d.role} key belongs to exactly one customer: give customerId, and no other customers`, { role: d.role });
  }
  if (d.customers !== null && d.role !== 'service' && !CUSTOMER_ROLES.includes(d.role)) {
    reject('API_KEY.INVALID_SCOPE', `${article(d.role)} ${d.role} key sees every customer: only customer roles and service keys take customers`, { role: d.role });
  }
  if (d.customers !== null && d.customers.length === 0) reject('API_KEY.INVALID_SCOPE', 'customers, when given, lists at least one customer', { role: d.role });
  return [{ type: 'ApiKeyCreated', data: d, metadata: envelope(command.metadata) }];
}

export function decideRevokeApiKey(command: RevokeApiKey, keys: ApiKeys): ApiKeyEvent[] {
  const key = keys.get(command.data.keyId);
  if (!key) reject('API_KEY.NOT_FOUND', `API key ${command.data.keyId} does not exist`, { keyId: command.data.keyId });
  if (key.revokedAt !== null) reject('API_KEY.ALREADY_REVOKED', `API key ${key.keyId} was revoked at ${key.revokedAt}`, { keyId: key.keyId, revokedAt: key.revokedAt });
  // Nobody could make keys through the API any more (the CLI on the server still could).
  if (key.role === 'admin' && ![...keys.values()].some((k) => k.role === 'admin' && k.revokedAt === null && k.keyId !== key.keyId)) {
    reject('API_KEY.LAST_ADMIN', `API key ${key.keyId} is the last admin key: create another admin key before revoking it`, { keyId: key.keyId });
  }
  return [{ type: 'ApiKeyRevoked', data: { keyId: key.keyId, reason: command.data.reason, revokedAt: command.metadata.now }, metadata: envelope(command.metadata) }];
}

/** Applies one event; the map is changed in place (keys are few and only this fold writes it). */
export function evolveApiKeys(keys: Map<string, ApiKeyRecord>, event: ApiKeyEvent): Map<string, ApiKeyRecord> {
  if (event.type === 'ApiKeyCreated') {
    const d = event.data;
    keys.set(d.keyId, { ...d, createdBy: event.metadata.actor.id, revokedAt: null, revokedBy: null, revokeReason: null });
  } else {
    const key = keys.get(event.data.keyId);
    if (key) keys.set(key.keyId, { ...key, revokedAt: event.data.revokedAt, revokedBy: event.metadata.actor.id, revokeReason: event.data.reason });
  }
  return keys;
}

function article(role: string): 'a' | 'an' {
  return /^[aeio]/.test(role) ? 'an' : 'a';
}

export function isApiKeyEvent(e: { type: string }): e is ApiKeyEvent {
  return e.type === 'ApiKeyCreated' || e.type === 'ApiKeyRevoked';
}
