import { Injectable, Logger } from '@nestjs/common';
import { commandForApprovedRequest, decideAccessRequest, DomainError, type CommandMetadata } from '@el/domain';
import { isConcurrencyError } from '@el/event-store';
import { EntitlementChanges } from '../entitlements/entitlement-changes';
import { CatalogService } from '../infrastructure/catalog.service';
import { AccessRequestRepository, type LoadedAccessRequest } from './access-request.repository';

export interface Fulfilment {
  readonly entitlementId: string;
  readonly entitlementEvents: readonly string[];
  /** Position of the last event written or found (grant or AccessFulfilled). */
  readonly position: number;
  readonly revision: number;
  /** True when nothing new was written. */
  readonly replayed: boolean;
  /** Why the grant could not happen (the entitlement changed after the approval). */
  readonly failure?: DomainError;
}

/**
 * Carries out an approved access request: grants the plan or attaches the
 * add-on (command id derived from the request, so it happens once), then
 * records `AccessFulfilled` on the request. The approval and the grant are on
 * two streams; a crash between them leaves an approval without
 * `AccessFulfilled`, which `ApprovalRecovery` finishes through here.
 */
@Injectable()
export class AccessFulfilment {
  private readonly logger = new Logger('access-requests');

  constructor(
    private readonly requests: AccessRequestRepository,
    private readonly changes: EntitlementChanges,
    private readonly catalog: CatalogService,
  ) {}

  async fulfil(loaded: LoadedAccessRequest, meta: CommandMetadata): Promise<Fulfilment> {
    const request = loaded.state;
    if (request.status !== 'approved') throw new DomainError('ACCESS_REQUEST.NOT_APPROVED', `access request ${loaded.requestId} is ${request.status}, not approved`);
    if (request.fulfilment) {
      return { entitlementId: request.entitlementId, entitlementEvents: request.fulfilment.entitlementEvents, position: loaded.position, revision: loaded.revision, replayed: true };
    }
    let grant: { events: readonly string[]; position: number; replayed: boolean } = { events: [], position: 0, replayed: true };
    let failure: DomainError | undefined;
    try {
      grant = await this.changes.apply(request.entitlementId, commandForApprovedRequest(request, this.catalog.current(), meta), {
        commandId: `access-request:${request.requestId}:grant`,
      });
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      failure = err;
      this.logger.warn({ requestId: request.requestId, code: err.code, reason: err.message }, 'approved access request could not be granted');
    }
    const events = decideAccessRequest(
      { type: 'FulfilAccess', data: { entitlementEvents: grant.events, ...(failure ? { failure: { code: failure.code, message: failure.message } } : {}) }, metadata: meta },
      request,
    );
    let appended = { revision: loaded.revision, position: loaded.position, duplicate: true };
    if (events.length > 0) {
      try {
        appended = await this.requests.append(loaded, events, `access-request:${request.requestId}:fulfilled`);
      } catch (err) {
        if (!isConcurrencyError(err)) throw err;
        // Recorded at the same moment by recovery or a retried approval: theirs stands.
        const now = await this.requests.load(loaded.requestId);
        if (now.state.status !== 'approved' || now.state.fulfilledAt === null) throw err;
        appended = { revision: now.revision, position: now.position, duplicate: true };
      }
    }
    return {
      entitlementId: request.entitlementId,
      entitlementEvents: grant.events,
      position: Math.max(grant.position, appended.position),
      revision: appended.revision,
      replayed: grant.replayed && appended.duplicate,
      ...(failure ? { failure } : {}),
    };
  }
}
