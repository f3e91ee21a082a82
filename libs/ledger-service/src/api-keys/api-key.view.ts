import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { ApiKeyRecord } from '@el/domain';
import { ROLES } from '@el/platform';

/** An API key as the API shows it: everything but the secret (which only its creator ever saw). */
export class ApiKeyView {
  @ApiProperty({ example: '3f9c1a7b2e4d6f80', description: 'The id inside the key (elk_<keyId>_…): safe to log and to revoke by' }) keyId!: string;
  @ApiProperty({ example: 'billing-sync' }) name!: string;
  @ApiProperty({ enum: ROLES }) role!: string;
  @ApiProperty({ type: [String], nullable: true, description: 'Customers it may see; null: all' }) customers!: readonly string[] | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ description: 'Principal that created it' }) createdBy!: string;
  @ApiPropertyOptional({ nullable: true }) revokedAt!: string | null;
  @ApiPropertyOptional({ nullable: true }) revokedBy!: string | null;
  @ApiPropertyOptional({ nullable: true }) revokeReason!: string | null;
}

export function toApiKeyView(r: ApiKeyRecord): ApiKeyView {
  return { keyId: r.keyId, name: r.name, role: r.role, customers: r.customers, createdAt: r.createdAt, createdBy: r.createdBy, revokedAt: r.revokedAt, revokedBy: r.revokedBy, revokeReason: r.revokeReason };
}
