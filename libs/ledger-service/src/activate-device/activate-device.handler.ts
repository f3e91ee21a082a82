import { CommandHandler } from '@nestjs/cqrs';
import type { ActivateDevice, CommandMetadata } from '@el/domain';
import { EntitlementUseCaseHandler } from '../entitlements/entitlement-use-case';
import { ActivateDeviceCommand } from './activate-device.command';

@CommandHandler(ActivateDeviceCommand)
export class ActivateDeviceHandler extends EntitlementUseCaseHandler<ActivateDeviceCommand> {
  protected toDomain(c: ActivateDeviceCommand, metadata: CommandMetadata): ActivateDevice {
    return { type: 'ActivateDevice', data: { deviceId: c.deviceId, ...(c.userId ? { userId: c.userId } : {}) }, metadata };
  }
}
