import { Controller, Get, Header, Injectable } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../identity/access';
import type { PublicJwks } from './keystore';

/**
 * The public keys this process publishes at /.well-known/jwks.json, from every
 * signer in it: the ledger's license-token keys (use `sig`) and the audit
 * service's tree-head keys (use `audit`). Each signer adds its source once;
 * the set is read on every request, so a rotation shows at once.
 */
@Injectable()
export class PublicKeys {
  private readonly sources: (() => PublicJwks)[] = [];

  add(source: () => PublicJwks): void {
    this.sources.push(source);
  }

  jwks(): PublicJwks {
    return { keys: this.sources.flatMap((s) => s().keys) };
  }
}

@ApiTags('keys')
@Controller('.well-known')
export class JwksController {
  constructor(private readonly keys: PublicKeys) {}

  @Public('public keys, for anyone to verify license tokens and signed tree heads offline')
  @Get('jwks.json')
  @Header('cache-control', 'public, max-age=300')
  @ApiOperation({ summary: 'Public keys: those that verify license tokens (use "sig") and those that verify the audit log\'s signed tree heads (use "audit"), the signing key and recently rotated ones' })
  @ApiOkResponse({ description: '{keys: [{kty: "OKP", crv: "Ed25519", x, kid, alg: "EdDSA", use: "sig" | "audit"}]}' })
  jwks(): PublicJwks {
    return this.keys.jwks();
  }
}
