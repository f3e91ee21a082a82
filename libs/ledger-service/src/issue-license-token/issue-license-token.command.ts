import { Command } from '@nestjs/cqrs';
import type { RequestContext } from '@el/platform';
import type { IssuedToken } from '../license-tokens/license-token-issuer';

/** Issue a signed license token: what the customer owns, for offline checks by the SDK. */
export class IssueLicenseTokenCommand extends Command<IssuedToken> {
  constructor(
    readonly customerId: string,
    /** Binds the token to a user: it then says whether that user holds a seat. */
    readonly userId: string | undefined,
    /** Binds the token to a device: it then says whether that device is activated. */
    readonly deviceId: string | undefined,
    /** The token reflects at least this write. */
    readonly minPosition: number | undefined,
    readonly context: RequestContext,
  ) {
    super();
  }
}
