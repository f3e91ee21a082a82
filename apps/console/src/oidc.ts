/* eslint-disable no-restricted-syntax -- this module talks to the console's own config file and to the identity provider, not to our API */
import { BASE } from './router';

export interface OidcConfig {
  readonly issuer: string;
  readonly clientId: string;
  readonly scope: string;
  /** The API's audience (OIDC_AUDIENCE), asked for as `audience` (and RFC 8707 `resource`) so the token is for this API. */
  readonly audience: string;
}

const PENDING = 'el.console.oidc.pending';

/** How this installation signs operators in (served with the console: /console/config.json). */
export async function consoleConfig(): Promise<{ oidc: OidcConfig | null }> {
  const r = await fetch(`${BASE}/config.json`, { headers: { accept: 'application/json' } });
  return r.ok ? ((await r.json()) as { oidc: OidcConfig | null }) : { oidc: null };
}

const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const random = (n: number) => b64url(crypto.getRandomValues(new Uint8Array(n)));

async function discover(issuer: string): Promise<{ authorization_endpoint: string; token_endpoint: string }> {
  let r: Response;
  try {
    r = await fetch(`${issuer}/.well-known/openid-configuration`);
  } catch {
    throw new Error(`the identity provider at ${issuer} could not be reached`);
  }
  if (!r.ok) throw new Error(`the identity provider at ${issuer} has no OpenID configuration (${r.status})`);
  return (await r.json()) as { authorization_endpoint: string; token_endpoint: string };
}

const redirectUri = () => `${window.location.origin}${BASE}/`;

/**
 * Goes to the identity provider's login (authorization code with PKCE, S256):
 * the verifier and state stay in this tab's sessionStorage until it comes back.
 */
export async function beginSignIn(oidc: OidcConfig, returnTo: string): Promise<void> {
  const d = await discover(oidc.issuer);
  const verifier = random(32);
  const challenge = b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  const state = random(16);
  sessionStorage.setItem(PENDING, JSON.stringify({ state, verifier, returnTo }));
  const url = new URL(d.authorization_endpoint);
  url.search = new URLSearchParams({ response_type: 'code', client_id: oidc.clientId, redirect_uri: redirectUri(), scope: oidc.scope, state, code_challenge: challenge, code_challenge_method: 'S256', audience: oidc.audience }).toString();
  window.location.assign(url.toString());
}

/**
 * Whether this page load is the identity provider sending the viewer back. An
 * answer this tab did not ask for (no sign-in under way) is taken out of the
 * address bar and history all the same.
 */
export function isReturning(): boolean {
  const q = new URLSearchParams(window.location.search);
  const answer = q.has('code') || q.has('error');
  if (answer && sessionStorage.getItem(PENDING) === null) window.history.replaceState(null, '', `${BASE}/`);
  return answer && sessionStorage.getItem(PENDING) !== null;
}

/**
 * Finishes a sign-in: checks the state, trades the code (and the PKCE
 * verifier) for an access token, and takes the code out of the address bar.
 * Answers the token and the page to return to.
 */
export async function completeSignIn(oidc: OidcConfig): Promise<{ accessToken: string; returnTo: string }> {
  const q = new URLSearchParams(window.location.search);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null') as { state: string; verifier: string; returnTo: string } | null;
  sessionStorage.removeItem(PENDING);
  window.history.replaceState(null, '', `${BASE}/`);
  if (!pending) throw new Error('no sign-in was under way in this tab');
  if (q.get('error')) throw new Error(`the identity provider refused: ${q.get('error_description') ?? q.get('error')}`);
  if (q.get('state') !== pending.state) throw new Error('the answer from the identity provider does not belong to this sign-in (state differs)');
  const d = await discover(oidc.issuer);
  const r = await fetch(d.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: q.get('code') ?? '', redirect_uri: redirectUri(), client_id: oidc.clientId, code_verifier: pending.verifier }),
  });
  const body = (await r.json().catch(() => ({}))) as { access_token?: string; error?: string; error_description?: string };
  if (!r.ok || !body.access_token) throw new Error(`the identity provider did not issue a token: ${body.error_description ?? body.error ?? r.status}`);
  return { accessToken: body.access_token, returnTo: pending.returnTo };
}
