import { CommandHandler } from '@nestjs/cqrs';
import type { DeactivateDevice, CommandMetadata } from '@el/domain';
import { EntitlementUseCaseHandler } from '../entitlements/entitlement-use-case';
import { DeactivateDeviceCommand } from './deactivate-device.command';

@CommandHandler(DeactivateDeviceCommand)
export class DeactivateDeviceHandler extends EntitlementUseCaseHandler<DeactivateDeviceCommand> {
  protected toDomain(c: DeactivateDeviceCommand, metadata: CommandMetadata): DeactivateDevice {
    return { type: 'DeactivateDevice', data: { deviceId: c.deviceId }, metadata };
  }
}
