import { ApiProperty } from '@nestjs/swagger';
import { ID_API } from '@el/platform';

/** A customer in the search: its entitlements counted by status, as the read model keeps them. */
export interface CustomerListItem {
  readonly customerId: string;
  /** Every entitlement the customer holds, whatever its status. */
  readonly entitlements: number;
  readonly active: number;
  readonly suspended: number;
  readonly expired: number;
  readonly revoked: number;
  /** Seats bought and assigned, over active and suspended entitlements. */
  readonly seats: number;
  readonly seatsAssigned: number;
  /** Products of its active and suspended entitlements, sorted. */
  readonly products: readonly string[];
  /** The ledger position of the customer's latest entitlement change. */
  readonly lastPosition: number;
}

/** A page of customers, and the read-model position it was read at. */
export interface CustomerListPage {
  readonly position: number;
  readonly items: readonly CustomerListItem[];
  /** Pass as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

export class CustomerListItemView implements CustomerListItem {
  @ApiProperty({ ...ID_API, example: 'acme' }) customerId!: string;
  @ApiProperty({ type: 'integer', minimum: 1, description: 'Entitlements the customer holds, whatever their status' }) entitlements!: number;
  @ApiProperty({ type: 'integer', minimum: 0 }) active!: number;
  @ApiProperty({ type: 'integer', minimum: 0 }) suspended!: number;
  @ApiProperty({ type: 'integer', minimum: 0 }) expired!: number;
  @ApiProperty({ type: 'integer', minimum: 0 }) revoked!: number;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Seats bought, over active and suspended entitlements' }) seats!: number;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Seats assigned, over active and suspended entitlements' }) seatsAssigned!: number;
  @ApiProperty({ type: [String], description: 'Products of its active and suspended entitlements, sorted' }) products!: readonly string[];
  @ApiProperty({ type: 'integer', minimum: 0, description: "The ledger position of the customer's latest entitlement change" }) lastPosition!: number;
}

export class CustomerListPageView implements CustomerListPage {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'The read-model position the page was read at' }) position!: number;
  @ApiProperty({ type: [CustomerListItemView] }) items!: readonly CustomerListItemView[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next page; null on the last page' }) nextCursor!: string | null;
}
