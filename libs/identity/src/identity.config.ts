import { ConfigError, env, isRole, type ConfigOf, type Role } from '@el/platform';

/** How every HTTP service verifies credentials (see README "Authentication"). */
export const identityConfigSpec = {
  API_KEY_REFRESH_MS: env.int({
    default: 1000,
    min: 100,
    max: 60_000,
    description: 'How often a process rereads the API key log: a revoked key stops working on every process within this time (plus the relay\'s lag for the enforcement service on Kafka)',
  }),
  OIDC_ISSUER: env.string({ default: '', description: 'Operators\' identity provider (OIDC): the `iss` its access tokens carry; empty: only API keys are accepted' }),
  OIDC_AUDIENCE: env.string({ default: '', description: 'The `aud` an access token must carry to be accepted here (required with OIDC_ISSUER)' }),
  OIDC_JWKS_URL: env.string({ default: '', description: 'The identity provider\'s signing keys (JWKS URL), e.g. https://idp.example.com/.well-known/jwks.json (required with OIDC_ISSUER)' }),
  OIDC_ROLES_CLAIM: env.string({ default: 'roles', description: 'Claim holding the user\'s groups or roles (a dotted path such as realm_access.roles works)' }),
  OIDC_ROLE_MAP: env.list({ description: 'Claim value → role, comma-separated, e.g. ops-team=operator,sec=auditor; unset: claim values are role names (admin, operator, …)' }),
  OIDC_CUSTOMER_CLAIM: env.string({ default: 'customer_id', description: 'Claim naming the customer of a customer-admin or customer-user token' }),
};
export type IdentityConfig = ConfigOf<typeof identityConfigSpec>;

export interface OidcSettings {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl: string;
  readonly rolesClaim: string;
  readonly roleMap: ReadonlyMap<string, Role> | null;
  readonly customerClaim: string;
}

/** The OIDC settings, or null when no identity provider is configured; names the variable that is wrong. */
export function oidcSettings(config: IdentityConfig): OidcSettings | null {
  const given = [config.OIDC_ISSUER, config.OIDC_AUDIENCE, config.OIDC_JWKS_URL].filter(Boolean).length;
  if (given === 0) return null;
  const problems: { variable: string; message: string }[] = [];
  if (!config.OIDC_ISSUER) problems.push({ variable: 'OIDC_ISSUER', message: 'is required when OIDC_AUDIENCE or OIDC_JWKS_URL is set' });
  if (!config.OIDC_AUDIENCE) problems.push({ variable: 'OIDC_AUDIENCE', message: 'is required with OIDC_ISSUER (tokens for another audience must not be accepted)' });
  if (!config.OIDC_JWKS_URL) problems.push({ variable: 'OIDC_JWKS_URL', message: 'is required with OIDC_ISSUER' });
  else if (!/^https:\/\/[^\s]+$/.test(config.OIDC_JWKS_URL) && !/^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?\//.test(config.OIDC_JWKS_URL)) {
    // Whoever answers this URL decides which tokens are valid: never over plain HTTP across a network.
    problems.push({ variable: 'OIDC_JWKS_URL', message: 'must be an https URL (plain http only on localhost)' });
  }
  let roleMap: Map<string, Role> | null = null;
  if (config.OIDC_ROLE_MAP) {
    roleMap = new Map();
    for (const pair of config.OIDC_ROLE_MAP) {
      const [claim, role] = pair.split('=');
      if (!claim || !isRole(role)) problems.push({ variable: 'OIDC_ROLE_MAP', message: `"${pair}" must be <claim value>=<role>, role one of admin, operator, erp, service, auditor, customer-admin, customer-user` });
      else roleMap.set(claim, role);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return { issuer: config.OIDC_ISSUER, audience: config.OIDC_AUDIENCE, jwksUrl: config.OIDC_JWKS_URL, rolesClaim: config.OIDC_ROLES_CLAIM, roleMap, customerClaim: config.OIDC_CUSTOMER_CLAIM };
}
