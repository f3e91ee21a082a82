import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InfraUnavailableError, which } from './infra';

export interface TestCertificates {
  /** The throwaway CA's certificate: what a client trusts (KAFKA_TLS_CA_FILE, READ_DB_SSL_CA_FILE). */
  readonly caFile: string;
  /** The server certificate, issued by the CA for `hosts` (subjectAltName). */
  readonly certFile: string;
  /** Its private key (PKCS#8 PEM, unencrypted, mode 0600). */
  readonly keyFile: string;
  /** A certificate for the same hosts from a second, unrelated CA: what a client must reject. */
  readonly strangerCaFile: string;
}

/**
 * A CA and a server certificate for tests of TLS, made with the machine's
 * openssl in `dir` (a second of work): RSA 2048, valid two days, for
 * `localhost` and `127.0.0.1` unless told otherwise.
 */
export function makeTestCertificates(dir: string, hosts: readonly string[] = ['localhost', '127.0.0.1']): TestCertificates {
  const openssl = which('openssl');
  if (!openssl) throw new InfraUnavailableError('TLS tests: openssl is needed to make the test certificates and was not found');
  mkdirSync(dir, { recursive: true });
  const run = (...args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const ca = (name: string) => run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=entitlement-ledger ${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  ca('test-ca');
  ca('stranger-ca');
  const san = hosts.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  writeFileSync(join(dir, 'server.ext'), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${hosts[0]}`);
  run('x509', '-req', '-in', 'server.csr', '-CA', 'test-ca.pem', '-CAkey', 'test-ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext');
  return { caFile: join(dir, 'test-ca.pem'), certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key'), strangerCaFile: join(dir, 'stranger-ca.pem') };
}
