import { ApiProperty } from '@nestjs/swagger';
import { PERMISSIONS, ROLES, type Permission, type Principal, type Role } from '@el/platform';

/**
 * Who the caller is, as `GET /v1/me` answers: the principal of the verified
 * credential and every permission its role holds. A console reads it once to
 * decide what to show; the server still checks every request on its own.
 */
export interface Session {
  /** The actor recorded on every event the caller causes: `key:<keyId>` or `oidc:<subject>`. */
  readonly id: string;
  readonly kind: Principal['kind'];
  readonly role: Role;
  /** The key's name, or the token's name or email claim. */
  readonly name: string;
  /** The customers it may see: one for customer roles, a list or null for `service`, null (all) for the others. */
  readonly customers: readonly string[] | null;
  /** Every permission its role holds (PERMISSIONS), in the table's order. */
  readonly permissions: readonly Permission[];
}

/** The OpenAPI schema of a Session. */
export class SessionView implements Session {
  @ApiProperty({ example: 'key:3f9c1a7b2e4d6f80', description: 'The actor recorded on every event the caller causes: key:<keyId> or oidc:<subject>' }) id!: string;
  @ApiProperty({ enum: ['api-key', 'oidc', 'system'], description: 'How the credential was verified' }) kind!: Principal['kind'];
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiProperty({ example: 'acme portal', description: "The key's name, or the token's name or email claim" }) name!: string;
  @ApiProperty({ type: [String], nullable: true, description: 'Customers it may see; null: all' }) customers!: readonly string[] | null;
  @ApiProperty({ enum: Object.keys(PERMISSIONS), isArray: true, description: 'Every permission its role holds' }) permissions!: readonly Permission[];
}
