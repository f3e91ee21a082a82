import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Clock } from '@el/platform';
import { commandMetadata } from '../infrastructure/command-metadata';
import { LicenseTokenIssuer, type IssuedToken } from '../license-tokens/license-token-issuer';
import { IssueLicenseTokenCommand } from './issue-license-token.command';
import { assertSeesCustomer } from '../infrastructure/visibility';

@CommandHandler(IssueLicenseTokenCommand)
export class IssueLicenseTokenHandler implements ICommandHandler<IssueLicenseTokenCommand, IssuedToken> {
  constructor(
    private readonly issuer: LicenseTokenIssuer,
    private readonly clock: Clock,
  ) {}

  execute(c: IssueLicenseTokenCommand): Promise<IssuedToken> {
    assertSeesCustomer(c.context.principal, c.customerId);
    return this.issuer.issue(
      { customerId: c.customerId, ...(c.userId !== undefined ? { userId: c.userId } : {}), ...(c.deviceId !== undefined ? { deviceId: c.deviceId } : {}), ...(c.minPosition !== undefined ? { minPosition: c.minPosition } : {}) },
      commandMetadata(c.context, this.clock),
    );
  }
}
