import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ConfigError, env, readConfig } from './config';
import { redactCredentials } from './redact';
import { ConfigProblems, readCertificateFile, readPrivateKeyFile, Secret, secretFrom, secretVariables, withoutSecrets } from './secrets';

const problemsOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe('redactCredentials', () => {
  it.each([
    ['postgres://ledger:s3cret@db:5432/ledger', 'postgres://ledger:***@db:5432/ledger'],
    ['postgresql://ledger:p%40ss@db/ledger?sslmode=disable', 'postgresql://ledger:***@db/ledger?sslmode=disable'],
    // An unencoded @ in the password: everything up to the host is still hidden.
    ['postgres://ledger:p@ss@db/ledger', 'postgres://ledger:***@db/ledger'],
    ['esdb://admin:changeit@es1:2113,es2:2113?tls=true', 'esdb://admin:***@es1:2113,es2:2113?tls=true'],
    ['postgres://db/ledger?user=ledger&password=s3cret&application_name=x', 'postgres://db/ledger?user=ledger&password=***&application_name=x'],
    ['cannot connect to postgres://a:b@h/db: refused; also esdb://c:d@e:2113', 'cannot connect to postgres://a:***@h/db: refused; also esdb://c:***@e:2113'],
  ])('%s → %s', (input, expected) => {
    expect(redactCredentials(input)).toBe(expected);
  });

  it('leaves text without credentials as it is', () => {
    for (const text of ['postgres://ledger@db/ledger', 'esdb://localhost:2113?tls=false', 'kafka:9092,kafka2:9092', 'http://localhost:8080/health']) {
      expect(redactCredentials(text)).toBe(text);
    }
  });
});

describe('Secret', () => {
  it('prints as *** however it is printed, and reveals its value only when asked', () => {
    const s = new Secret('hunter2');
    const config = { user: 'ledger', password: s };
    expect(`${s}`).toBe('***');
    expect(JSON.stringify(config)).toBe('{"user":"ledger","password":"***"}');
    expect(inspect(config)).not.toContain('hunter2');
    expect(s.reveal()).toBe('hunter2');
    expect(withoutSecrets('auth failed for hunter2 at hunter2', [s, undefined])).toBe('auth failed for *** at ***');
  });
});

describe('secret variables (NAME or NAME_FILE)', () => {
  const spec = { ...secretVariables('DB_PASSWORD', { description: 'Database password' }), PORT: env.port({ description: 'port' }) };
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'el-secret-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the value from the file, without its trailing newline', () => {
    const file = join(dir, 'pw');
    writeFileSync(file, 'from-a-file\n');
    const config = readConfig(spec, { DB_PASSWORD_FILE: file });
    const secret = secretFrom(config, 'DB_PASSWORD')!;
    expect(secret.value.reveal()).toBe('from-a-file');
    expect(secret.variable).toBe('DB_PASSWORD_FILE');
  });

  it('or directly; and nothing when neither is set', () => {
    expect(secretFrom(readConfig(spec, { DB_PASSWORD: 'direct' }), 'DB_PASSWORD')).toMatchObject({ variable: 'DB_PASSWORD' });
    expect(secretFrom(readConfig(spec, {}), 'DB_PASSWORD')).toBeUndefined();
  });

  it('fails naming the variable: both set, a file that cannot be read, an empty file', () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect(problemsOf(() => secretFrom(readConfig(spec, { DB_PASSWORD: 'x', DB_PASSWORD_FILE: empty }), 'DB_PASSWORD'))).toEqual([{ variable: 'DB_PASSWORD_FILE', message: 'cannot be used together with DB_PASSWORD; set one of them' }]);
    expect(problemsOf(() => secretFrom(readConfig(spec, { DB_PASSWORD_FILE: join(dir, 'missing') }), 'DB_PASSWORD'))).toEqual([{ variable: 'DB_PASSWORD_FILE', message: `cannot read ${join(dir, 'missing')} (ENOENT)` }]);
    expect(problemsOf(() => secretFrom(readConfig(spec, { DB_PASSWORD_FILE: empty }), 'DB_PASSWORD'))).toEqual([{ variable: 'DB_PASSWORD_FILE', message: `${empty} is empty` }]);
  });

  it('a bad value of a secret or URL variable is reported without the credential', () => {
    const specs = {
      TOKEN: env.int({ description: 'a numeric secret', secret: true }),
      URL: env.url({ protocols: ['postgres'], description: 'db' }),
    };
    expect(problemsOf(() => readConfig(specs, { TOKEN: 'hunter2', URL: 'mysql://ledger:hunter2@db/x' }))).toEqual([
      { variable: 'TOKEN', message: 'must be an integer (got a value, not shown)' },
      { variable: 'URL', message: 'must be a postgres URL (got "mysql://ledger:***@db/x")' },
    ]);
  });
});

describe('certificate and key files', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'el-pem-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=test'], { stdio: 'ignore' });
    writeFileSync(join(dir, 'garbage.pem'), 'not a certificate\n');
    writeFileSync(join(dir, 'broken.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts a PEM certificate and an unencrypted PEM key', () => {
    expect(readCertificateFile('CA_FILE', join(dir, 'cert.pem'))).toContain('BEGIN CERTIFICATE');
    expect(readPrivateKeyFile('KEY_FILE', join(dir, 'key.pem')).reveal()).toContain('PRIVATE KEY');
  });

  it('names the variable for a missing file, a file without a certificate, a broken certificate, a certificate given as a key', () => {
    expect(problemsOf(() => readCertificateFile('CA_FILE', join(dir, 'nope.pem')))[0]).toEqual({ variable: 'CA_FILE', message: `cannot read ${join(dir, 'nope.pem')} (ENOENT)` });
    expect(problemsOf(() => readCertificateFile('CA_FILE', join(dir, 'garbage.pem')))[0]!.message).toMatch(/holds no PEM certificate/);
    expect(problemsOf(() => readCertificateFile('CA_FILE', join(dir, 'broken.pem')))[0]!.message).toMatch(/certificate 1 in .* is not valid/);
    expect(problemsOf(() => readPrivateKeyFile('KEY_FILE', join(dir, 'cert.pem')))[0]!.message).toMatch(/is not an unencrypted PEM private key/);
  });
});

describe('ConfigProblems', () => {
  it('collects the problems of several checks into one ConfigError', () => {
    const problems = new ConfigProblems();
    expect(problems.check(() => 42)).toBe(42);
    expect(problems.check(() => { throw new ConfigError([{ variable: 'A', message: 'bad' }]); })).toBeUndefined();
    problems.add('B', 'also bad');
    expect(problemsOf(() => problems.throwIfAny())).toEqual([{ variable: 'A', message: 'bad' }, { variable: 'B', message: 'also bad' }]);
    expect(() => problems.check(() => { throw new TypeError('a bug'); })).toThrow(TypeError);
  });
});
