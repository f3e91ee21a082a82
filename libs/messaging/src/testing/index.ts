export * from './integration-events.contract';
