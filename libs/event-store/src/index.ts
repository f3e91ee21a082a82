export * from './event-store.port';
export * from './catch-up-subscription';
export * from './checkpointed';
export * from './sqlite/sqlite-event-store';
export * from './nest/event-store.module';
export * from './esdb/esdb-event-store';
export * from './esdb/esdb-mapping';
export * from './upcasting-event-store';
