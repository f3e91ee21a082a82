import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';

/** An identity provider for tests: a JWKS served over real HTTP, and tokens signed with its key. */
export interface TestIdp {
  readonly issuer: string;
  readonly jwksUrl: string;
  /** How many times the JWKS was fetched. */
  readonly fetches: () => number;
  token(claims: JWTPayload, options?: { audience?: string; issuer?: string; expiresIn?: string; noExpiry?: boolean; kid?: string; foreignKey?: boolean }): Promise<string>;
  close(): Promise<void>;
}

/**
 * With `login`, the provider also signs a user in, as a browser app does it:
 * OpenID discovery, an authorization endpoint that approves at once (the
 * user is `claims`) and a token endpoint that trades the code for an access
 * token only with the right PKCE verifier (S256), once.
 */
export interface TestIdpLogin {
  readonly clientId: string;
  readonly claims: JWTPayload;
}

const readBody = (req: IncomingMessage) => new Promise<string>((resolve) => {
  let b = '';
  req.on('data', (d) => (b += d));
  req.on('end', () => resolve(b));
});

export async function startTestIdp(login?: TestIdpLogin): Promise<TestIdp> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const foreign = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'idp-key-1', alg: 'ES256', use: 'sig' };
  let fetches = 0;
  const sign: TestIdp['token'] = (claims, o = {}) => {
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: o.kid ?? 'idp-key-1' })
      .setIssuer(o.issuer ?? base)
      .setAudience(o.audience ?? 'entitlement-ledger')
      .setIssuedAt();
    if (!o.noExpiry) jwt.setExpirationTime(o.expiresIn ?? '5m');
    return jwt.sign(o.foreignKey ? foreign.privateKey : privateKey);
  };
  const codes = new Map<string, { challenge: string; redirectUri: string; audience: string }>();
  const cors = { 'access-control-allow-origin': '*', 'content-type': 'application/json' };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    if (url.pathname === '/jwks.json') {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    } else if (login && url.pathname === '/.well-known/openid-configuration') {
      res.writeHead(200, cors).end(JSON.stringify({ issuer: base, authorization_endpoint: `${base}/authorize`, token_endpoint: `${base}/token`, jwks_uri: `${base}/jwks.json`, code_challenge_methods_supported: ['S256'] }));
    } else if (login && url.pathname === '/authorize') {
      const q = url.searchParams;
      const redirectUri = q.get('redirect_uri') ?? '';
      if (q.get('client_id') !== login.clientId || q.get('response_type') !== 'code' || q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge') || !redirectUri) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('bad authorization request');
        return;
      }
      const code = randomBytes(16).toString('hex');
      codes.set(code, { challenge: q.get('code_challenge')!, redirectUri, audience: q.get('audience') ?? '' });
      const back = new URL(redirectUri);
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.get('state') ?? '');
      res.writeHead(302, { location: back.toString() }).end();
    } else if (login && url.pathname === '/token' && req.method === 'POST') {
      void readBody(req).then(async (raw) => {
        const f = new URLSearchParams(raw);
        const granted = codes.get(f.get('code') ?? '');
        codes.delete(f.get('code') ?? '');
        const verifier = f.get('code_verifier') ?? '';
        const ok = granted && f.get('grant_type') === 'authorization_code' && f.get('client_id') === login.clientId && f.get('redirect_uri') === granted.redirectUri && createHash('sha256').update(verifier).digest('base64url') === granted.challenge;
        if (!ok) {
          res.writeHead(400, cors).end(JSON.stringify({ error: 'invalid_grant', error_description: 'unknown or used code, or the wrong verifier' }));
          return;
        }
        // As providers do for an API: the token is for the audience the client asked for (none asked: the provider's own).
        const access = await sign(login.claims, { audience: granted.audience || `${base}/userinfo` });
        res.writeHead(200, cors).end(JSON.stringify({ access_token: access, token_type: 'Bearer', expires_in: 300 }));
      });
    } else res.writeHead(404).end();
  });
  let base = '';
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer: base,
    jwksUrl: `${base}/jwks.json`,
    fetches: () => fetches,
    token: sign,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
