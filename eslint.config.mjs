import nx from '@nx/eslint-plugin';

/**
 * Module boundaries are the architecture: the domain is pure, adapters depend
 * on ports, apps compose. `npm run lint` fails on any violation.
 */
const INFRASTRUCTURE = ['@nestjs/*', 'typeorm', 'kafkajs', 'pg', 'better-sqlite3', '@eventstore/*', 'jose', 'prom-client', 'pino', 'nestjs-pino'];

const depConstraints = [
  // type axis
  {
    sourceTag: 'type:domain',
    onlyDependOnLibsWithTags: ['type:domain'],
    bannedExternalImports: INFRASTRUCTURE,
  },
  { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:domain', 'type:contracts'] },
  // The SDK is embedded in customers' applications: the decision function, the contracts and jose, nothing else.
  {
    sourceTag: 'type:sdk',
    onlyDependOnLibsWithTags: ['type:domain', 'type:contracts'],
    bannedExternalImports: INFRASTRUCTURE.filter((p) => p !== 'jose'),
  },
  { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util', 'type:domain', 'type:contracts'] },
  { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:data-access', 'type:util', 'type:domain', 'type:contracts'] },
  {
    sourceTag: 'type:feature',
    onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:util', 'type:domain', 'type:contracts'],
  },
  {
    sourceTag: 'type:app',
    onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:util', 'type:domain', 'type:contracts', 'type:sdk'],
  },
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:testing', 'type:data-access', 'type:util', 'type:domain', 'type:contracts'] },
  { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['*'] },
  // scope axis
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
  { sourceTag: 'scope:ledger', onlyDependOnLibsWithTags: ['scope:shared', 'scope:ledger'] },
  { sourceTag: 'scope:projector', onlyDependOnLibsWithTags: ['scope:shared', 'scope:projector'] },
  { sourceTag: 'scope:enforcement', onlyDependOnLibsWithTags: ['scope:shared', 'scope:enforcement'] },
  { sourceTag: 'scope:metering', onlyDependOnLibsWithTags: ['scope:shared', 'scope:metering'] },
  { sourceTag: 'scope:audit', onlyDependOnLibsWithTags: ['scope:shared', 'scope:audit'] },
  { sourceTag: 'scope:embedded', onlyDependOnLibsWithTags: ['*'] },
  // The web console runs in browsers: it imports the server's types only (enforced below), never its code.
  { sourceTag: 'scope:console', onlyDependOnLibsWithTags: ['*'] },
  { sourceTag: 'scope:tools', onlyDependOnLibsWithTags: ['*'] },
];

/** Tests may also use the shared testing helpers. */
const testDepConstraints = depConstraints.map((c) =>
  c.sourceTag.startsWith('type:') && !c.onlyDependOnLibsWithTags.includes('*')
    ? { ...c, onlyDependOnLibsWithTags: [...c.onlyDependOnLibsWithTags, 'type:testing'] }
    : c,
);

/** Specs and test support code (src/testing/ folders are never built into dist/). */
const SPECS = ['**/*.spec.ts', '**/__fixtures__/**/*.ts', '**/src/testing/**/*.ts'];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', 'tmp/**', 'data/**', '.nx/**', '**/jest.config.cjs', 'jest.preset.cjs'] },
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', { enforceBuildableLibDependency: false, allow: [], depConstraints }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    files: SPECS,
    rules: {
      '@nx/enforce-module-boundaries': ['error', { enforceBuildableLibDependency: false, allow: [], depConstraints: testDepConstraints }],
    },
  },
  {
    // The domain never touches the outside world: no file system, network, clock sources or randomness.
    files: ['libs/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: INFRASTRUCTURE.filter((p) => !p.includes('*')).map((name) => ({ name, message: 'libs/domain is pure: infrastructure belongs in adapters and apps.' })),
          patterns: [
            { group: INFRASTRUCTURE.filter((p) => p.includes('*')), message: 'libs/domain is pure: infrastructure belongs in adapters and apps.' },
            { group: ['node:*', 'fs', 'path', 'crypto', 'http', 'https', 'net', 'child_process', 'os', 'worker_threads'], message: 'libs/domain is pure: no Node.js I/O modules.' },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'The domain never reads a clock: take time from command metadata.' },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'The domain never reads a clock: take time from command metadata.' },
        { selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']", message: 'The domain never generates ids or randomness: take them from command metadata.' },
        { selector: "CallExpression[callee.name='randomUUID']", message: 'The domain never generates ids: take them from command metadata.' },
      ],
    },
  },
  {
    // The console is a browser app: of the server's libraries it may import types only (erased
    // from the bundle); the API is reached through the typed client (src/api), never a URL by hand.
    files: ['apps/console/src/**/*.ts', 'apps/console/src/**/*.tsx'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@el/*'], allowTypeImports: true, message: 'The console bundles no server code: import types only (import type).' },
            { group: ['node:*'], message: 'The console runs in a browser.' },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.name='fetch']", message: 'Call the API through the typed client (src/api/api.ts), never fetch by hand.' },
      ],
    },
  },
];
