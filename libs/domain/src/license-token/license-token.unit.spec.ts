import { deciderSpec } from '@el/testing';
import { meta } from '../__fixtures__/fixtures';
import { envelope } from '../shared/envelope';
import { licenseTokenDecider, type IssueLicenseToken } from './license-token';

const spec = deciderSpec(licenseTokenDecider);
const data: IssueLicenseToken['data'] = {
  customerId: 'acme',
  tokenId: 't-1',
  keyId: 'k-1',
  entitlementIds: ['e-1'],
  userId: 'bob',
  deviceId: null,
  position: 42,
  issuedAt: '2026-01-01T00:00:00.000Z',
  expiresAt: '2026-01-01T01:00:00.000Z',
  refreshOf: null,
};
const issue = (over: Partial<IssueLicenseToken['data']> = {}): IssueLicenseToken => ({ type: 'IssueLicenseToken', data: { ...data, ...over }, metadata: meta() });

describe('license tokens', () => {
  it('records an issued token (never the token itself)', () => {
    spec.given([]).when(issue()).then([{ type: 'LicenseTokenIssued', data, metadata: envelope(meta()) }]);
  });
  it('records a refresh with the token it replaces', () => {
    spec.given([]).when(issue({ tokenId: 't-2', refreshOf: 't-1' })).then((events) => expect(events[0]!.data).toMatchObject({ tokenId: 't-2', refreshOf: 't-1' }));
  });
  it('refuses a token that expires before it is issued', () => {
    spec.given([]).when(issue({ expiresAt: '2025-12-31T00:00:00.000Z' })).thenRejects('QUANTITY.INVALID');
  });
});
