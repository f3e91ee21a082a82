export * from './enforcement.config';
export * from './enforcement.module';
export * from './view/enforcement-view';
export * from './view/snapshot-file';
export * from './view/view-runner';
export * from './check/check.routes';
export * from './enforcement.errors';
