/** The process's IntegrationEvents (Kafka or in-process). */
export const INTEGRATION_EVENTS = Symbol('INTEGRATION_EVENTS');
export const BUS_CONFIG = Symbol('BUS_CONFIG');
