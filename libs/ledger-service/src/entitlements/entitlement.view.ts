import { ApiHeader, ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { deviceLimit, effectiveFeatures, graceEndsAtOf, statusReasonOf, type Entitlement, type FeatureSet } from '@el/domain';

/**
 * How many of the users holding a seat an entitlement's answer lists. The answer's size, and the time
 * it takes, stay bounded however many seats are held (100,000 users made a 1.3 MB answer, 8 ms);
 * the paged seat-assignments list has them all.
 */
export const ASSIGNED_USERS_SHOWN = 1000;

/** What the API shows of an entitlement: its state plus what follows from it. */
export class EntitlementView {
  @ApiProperty() entitlementId!: string;
  @ApiProperty() customerId!: string;
  @ApiProperty() productId!: string;
  @ApiProperty() planId!: string;
  @ApiProperty() planSku!: string;
  @ApiProperty() tier!: number;
  @ApiProperty({ description: 'Catalog version the plan terms came from' }) catalogVersion!: number;
  @ApiProperty({ enum: ['active', 'suspended', 'expired', 'revoked'] }) status!: Entitlement['status'];
  @ApiPropertyOptional({ description: 'Why it is suspended or revoked' }) statusReason?: string;
  @ApiProperty() seats!: number;
  @ApiProperty({
    type: [String],
    description:
      `Users holding a seat, in the order assigned: the first ${ASSIGNED_USERS_SHOWN.toLocaleString('en-US')} at most (compare with assignedUserCount; ` +
      'GET /v1/entitlements/{id}/seat-assignments pages through all of them)',
  })
  assignedUsers!: readonly string[];
  @ApiProperty({ description: `How many users hold a seat (assignedUsers lists the first ${ASSIGNED_USERS_SHOWN.toLocaleString('en-US')} of them at most)` }) assignedUserCount!: number;
  @ApiProperty({ description: 'Active devices', type: 'array', items: { type: 'object' } }) devices!: readonly { deviceId: string; userId: string | null; activatedAt: string }[];
  @ApiProperty({ nullable: true, type: Number, description: 'null when devices are unlimited' }) deviceLimit!: number | null;
  @ApiProperty() validFrom!: string;
  @ApiProperty({ nullable: true, type: String, description: 'null for perpetual entitlements' }) validUntil!: string | null;
  @ApiProperty() graceDays!: number;
  @ApiProperty({ nullable: true, type: String }) graceEndsAt!: string | null;
  @ApiProperty({ nullable: true, type: [String], description: 'Allowed regions; null means everywhere' }) regions!: readonly string[] | null;
  @ApiProperty({ description: 'Plan plus add-on grants: feature → {limit?, meter?}', type: 'object', additionalProperties: true }) features!: FeatureSet;
  @ApiProperty({ type: 'array', items: { type: 'object' } }) addOns!: readonly { sku: string; name: string; quantity: number }[];
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'order (orderId, lineId), manual, or access_request (requestId)' }) origin!: Entitlement['origin'];
  @ApiProperty() grantedAt!: string;
  @ApiProperty() updatedAt!: string;
  @ApiProperty({ description: 'Stream revision: the ETag, and what If-Match expects' }) revision!: number;
}

export function toEntitlementView(e: Entitlement, revision: number): EntitlementView {
  const statusReason = statusReasonOf(e);
  return {
    entitlementId: e.entitlementId,
    customerId: e.customerId,
    productId: e.productId,
    planId: e.planId,
    planSku: e.planSku,
    tier: e.tier,
    catalogVersion: e.catalogVersion,
    status: e.status,
    ...(statusReason !== null ? { statusReason } : {}),
    seats: e.seats,
    assignedUsers: e.assignedUsers.first(ASSIGNED_USERS_SHOWN),
    assignedUserCount: e.assignedUsers.size,
    devices: Object.values(e.devices),
    deviceLimit: deviceLimit(e),
    validFrom: e.validFrom,
    validUntil: e.validUntil,
    graceDays: e.graceDays,
    graceEndsAt: graceEndsAtOf(e),
    regions: e.regions,
    features: effectiveFeatures(e),
    addOns: Object.values(e.addOns).map((a) => ({ sku: a.sku, name: a.name, quantity: a.quantity })),
    origin: e.origin,
    grantedAt: e.grantedAt,
    updatedAt: e.updatedAt,
    revision,
  };
}

export class EntitlementWriteResponse {
  @ApiProperty() entitlementId!: string;
  @ApiProperty({ description: 'Stream revision after the write (also the ETag header)' }) revision!: number;
  @ApiProperty({ description: 'Global position of the write: pass as minPosition to read it from any query' }) position!: number;
  @ApiProperty({ type: [String], description: 'Event types written; empty when nothing changed' }) events!: readonly string[];
  @ApiProperty({ description: 'True when this exact command had already been applied (retry)' }) replayed!: boolean;
  @ApiProperty({ type: EntitlementView }) entitlement!: EntitlementView;
}

/** Documents the optimistic-concurrency header every entitlement write accepts. */
export const AcceptsIfMatch = () => ApiHeader({ name: 'If-Match', required: false, description: 'Revision (ETag) the change was decided on; 412 CONCURRENCY.STALE_REVISION if the entitlement has moved on' });
