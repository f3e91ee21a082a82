import { eventStoreConfigSpec } from '@el/event-store';
import { baseServiceConfigSpec, env } from '@el/platform';
import { messagingConfigSpec } from '@el/messaging';
import { projectorConfigSpec, readModelsConfigSpec } from '@el/read-models';

export const projectorServiceConfigSpec = {
  ...baseServiceConfigSpec,
  PORT: env.port({ default: 8081, description: 'HTTP port of the projector (only /health, /metrics and /docs)' }),
  ...eventStoreConfigSpec,
  ...readModelsConfigSpec,
  ...projectorConfigSpec,
  ...messagingConfigSpec,
};
