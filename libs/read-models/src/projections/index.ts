export * from './projection';
export * from './entitlement.projection';
export * from './order.projection';
export * from './access-request.projection';
export * from './dunning.projection';
import { accessRequestProjection } from './access-request.projection';
import { dunningProjection } from './dunning.projection';
import { entitlementProjection } from './entitlement.projection';
import { orderProjection } from './order.projection';

/** Every projection the projector runs, by the event types they handle. */
export const PROJECTIONS = [entitlementProjection, orderProjection, accessRequestProjection, dunningProjection] as const;
