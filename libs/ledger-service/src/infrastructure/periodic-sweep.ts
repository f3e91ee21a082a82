// Shared with metering (period close): the sweep lives in @el/platform.
export { PeriodicSweep } from '@el/platform';
