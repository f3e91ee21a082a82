import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '@el/platform';
import { LicenseTokenIssuer } from './license-token-issuer';

@ApiTags('license tokens')
@Controller('.well-known')
export class JwksController {
  constructor(private readonly issuer: LicenseTokenIssuer) {}

  @Public('public keys, for anyone to verify license tokens offline')
  @Get('jwks.json')
  @Header('cache-control', 'public, max-age=300')
  @ApiOperation({ summary: 'Public keys that verify license tokens (the signing key and recently rotated ones)' })
  @ApiOkResponse({ description: '{keys: [{kty: "OKP", crv: "Ed25519", x, kid, alg: "EdDSA", use: "sig"}]}' })
  jwks() {
    return this.issuer.jwks();
  }
}
