/** JSON Schema building blocks shared by the contracts: every string a caller sends is bounded. */

/** An identifier: 1–128 characters, letters, digits and . _ : @ -, starting with a letter or digit. */
export const ID_SCHEMA = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$' } as const;
export const ID_RULE = '1-128 characters: letters, digits and . _ : @ -, starting with a letter or digit';

/** A catalog SKU as a request names it (unknown SKUs are refused by the ledger, with the SKU). */
export const SKU_SCHEMA = { type: 'string', minLength: 1, maxLength: 64 } as const;

/** An instant, RFC 3339 with its offset (`2026-12-01T00:00:00Z`). */
export const INSTANT_SCHEMA = { type: 'string', format: 'date-time', maxLength: 40 } as const;

/** An instant in a message the services write themselves (ISO-8601 as toISOString gives it). */
export const MESSAGE_INSTANT_SCHEMA = { type: 'string', minLength: 20, maxLength: 40 } as const;
