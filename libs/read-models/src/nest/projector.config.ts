import { env, type ConfigOf } from '@el/platform';

export const projectorConfigSpec = {
  PROJECTOR_BATCH_SIZE: env.int({ default: 500, min: 1, max: 10_000, description: 'Most events the projector applies in one transaction' }),
  PROJECTOR_MAX_LAG_SECONDS: env.int({ default: 5, min: 1, description: '/health reports degraded when the oldest event not yet projected is older than this' }),
  PROJECTOR_TEST_PAUSE_AT_POSITION: env.int({ min: 1, description: 'Test only: hold the batch that reaches this position open (rows written, not committed) and print "projector paused in batch", so a test can kill the process mid-batch' }),
};
export type ProjectorConfig = ConfigOf<typeof projectorConfigSpec>;
