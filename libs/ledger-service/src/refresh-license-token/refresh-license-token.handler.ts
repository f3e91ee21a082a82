import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Clock } from '@el/platform';
import { commandMetadata } from '../infrastructure/command-metadata';
import { LicenseTokenIssuer, type IssuedToken } from '../license-tokens/license-token-issuer';
import { RefreshLicenseTokenCommand } from './refresh-license-token.command';
import { assertSeesCustomer } from '../infrastructure/visibility';

@CommandHandler(RefreshLicenseTokenCommand)
export class RefreshLicenseTokenHandler implements ICommandHandler<RefreshLicenseTokenCommand, IssuedToken> {
  constructor(
    private readonly issuer: LicenseTokenIssuer,
    private readonly clock: Clock,
  ) {}

  async execute(c: RefreshLicenseTokenCommand): Promise<IssuedToken> {
    const claims = await this.issuer.verifyForRefresh(c.token);
    assertSeesCustomer(c.context.principal, claims.sub);
    return this.issuer.issue(
      { customerId: claims.sub, ...(claims.usr !== undefined ? { userId: claims.usr } : {}), ...(claims.dev !== undefined ? { deviceId: claims.dev } : {}) },
      commandMetadata(c.context, this.clock),
      claims.jti,
    );
  }
}
