import { createServer, type Server } from 'node:http';
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

export async function startTestIdp(): Promise<TestIdp> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const foreign = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'idp-key-1', alg: 'ES256', use: 'sig' };
  let fetches = 0;
  const server: Server = createServer((req, res) => {
    if (req.url === '/jwks.json') {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer: base,
    jwksUrl: `${base}/jwks.json`,
    fetches: () => fetches,
    token: (claims, o = {}) => {
      const jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: o.kid ?? 'idp-key-1' })
        .setIssuer(o.issuer ?? base)
        .setAudience(o.audience ?? 'entitlement-ledger')
        .setIssuedAt();
      if (!o.noExpiry) jwt.setExpirationTime(o.expiresIn ?? '5m');
      return jwt.sign(o.foreignKey ? foreign.privateKey : privateKey);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
