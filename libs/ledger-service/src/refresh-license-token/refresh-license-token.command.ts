import { Command } from '@nestjs/cqrs';
import type { RequestContext } from '@el/platform';
import type { IssuedToken } from '../license-tokens/license-token-issuer';

/** A fresh token for the same customer, user and device as `token`, with what they own now. */
export class RefreshLicenseTokenCommand extends Command<IssuedToken> {
  constructor(
    readonly token: string,
    readonly context: RequestContext,
  ) {
    super();
  }
}
