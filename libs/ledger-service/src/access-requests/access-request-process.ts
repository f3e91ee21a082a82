import { Injectable } from '@nestjs/common';
import {
  accessRequestStream,
  commandForApprovedRequest,
  decideAccessRequest,
  decideEntitlement,
  evolveAccessRequest,
  foldAccessRequest,
  type AccessRequestCommand,
  type AccessRequestEvent,
  type AccessRequestState,
  type CommandMetadata,
} from '@el/domain';
import { isConcurrencyError } from '@el/event-store';
import { ApiException, deterministicId } from '@el/platform';
import { EntitlementWriter } from '../entitlements/entitlement-writer';
import { CatalogService } from '../infrastructure/catalog.service';
import { EventStreams } from '../infrastructure/event-streams';

export interface AccessRequestResult {
  readonly requestId: string;
  readonly status: AccessRequestState['status'];
  readonly revision: number;
  readonly position: number;
  readonly replayed: boolean;
  /** For an approval: the entitlement granted or extended. */
  readonly entitlementId?: string;
  readonly entitlementEvents?: readonly string[];
}

export interface NewAccessRequest {
  readonly requestId: string;
  readonly customerId: string;
  readonly sku: string;
  readonly quantity: number;
  readonly requestedBy: string;
  readonly reason: string;
  readonly entitlementId?: string;
}

/** The approval workflow: a request, then one decision by someone other than the requester. */
@Injectable()
export class AccessRequestProcess {
  constructor(
    private readonly streams: EventStreams,
    private readonly writer: EntitlementWriter,
    private readonly catalog: CatalogService,
  ) {}

  async request(r: NewAccessRequest, meta: CommandMetadata, commandId: string): Promise<AccessRequestResult> {
    const stream = accessRequestStream(r.requestId);
    const loaded = await this.streams.load<AccessRequestEvent>(stream);
    const already = this.streams.writtenBy(loaded, commandId);
    if (already.length > 0) return this.result(foldAccessRequest(loaded.events), already[0]!.revision, already[0]!.position, true);
    const state = foldAccessRequest(loaded.events);
    const events = decideAccessRequest({ type: 'RequestAccess', data: { ...r, catalog: this.catalog.current() }, metadata: meta }, state);
    const appended = await this.streams.append(stream, events, 'no_stream', commandId);
    return this.result(events.reduce(evolveAccessRequest, state), appended.revision, appended.position, appended.duplicate);
  }

  async approve(requestId: string, comment: string, meta: CommandMetadata): Promise<AccessRequestResult> {
    const stream = accessRequestStream(requestId);
    const loaded = await this.streams.load<AccessRequestEvent>(stream);
    let state = foldAccessRequest(loaded.events);
    let revision = loaded.revision;
    let position = loaded.position;
    let replayed = true;

    // A retried approval by the same approver finishes the grant instead of failing.
    const retry = state.status === 'approved' && state.approvedBy === meta.actor.id;
    if (!retry) {
      const command: AccessRequestCommand = {
        type: 'ApproveAccess',
        data: { approvedBy: meta.actor.id, comment, newEntitlementId: deterministicId('entitlement', 'access-request', requestId) },
        metadata: meta,
      };
      const events = decideAccessRequest(command, state);
      const approved = events.reduce(evolveAccessRequest, state);
      if (approved.status !== 'approved') throw new Error('approval did not approve');
      // Check the grant before recording the approval, so an approval never records a grant that cannot happen.
      const grant = commandForApprovedRequest(approved, this.catalog.current(), meta);
      decideEntitlement(grant, (await this.writer.read(approved.entitlementId)).state);
      try {
        const r = await this.streams.append(stream, events, EventStreams.expected(loaded), `access-request:${requestId}:approve`);
        ({ revision, position } = r);
        replayed = r.duplicate;
      } catch (err) {
        if (isConcurrencyError(err)) throw new ApiException(409, 'ACCESS_REQUEST.ALREADY_DECIDED', `access request ${requestId} was decided concurrently`);
        throw err;
      }
      state = approved;
    }
    if (state.status !== 'approved') throw new Error('unreachable');
    const approvedState = state;
    const grant = await this.writer.execute(approvedState.entitlementId, () => commandForApprovedRequest(approvedState, this.catalog.current(), meta), {
      commandId: `access-request:${requestId}:grant`,
    });
    return {
      ...this.result(state, revision, Math.max(position, grant.position), replayed && grant.replayed),
      entitlementId: approvedState.entitlementId,
      entitlementEvents: grant.events,
    };
  }

  async reject(requestId: string, reason: string, meta: CommandMetadata): Promise<AccessRequestResult> {
    const stream = accessRequestStream(requestId);
    const loaded = await this.streams.load<AccessRequestEvent>(stream);
    const state = foldAccessRequest(loaded.events);
    const events = decideAccessRequest({ type: 'RejectAccess', data: { rejectedBy: meta.actor.id, reason }, metadata: meta }, state);
    try {
      const r = await this.streams.append(stream, events, EventStreams.expected(loaded), `access-request:${requestId}:reject`);
      return this.result(events.reduce(evolveAccessRequest, state), r.revision, r.position, r.duplicate);
    } catch (err) {
      if (isConcurrencyError(err)) throw new ApiException(409, 'ACCESS_REQUEST.ALREADY_DECIDED', `access request ${requestId} was decided concurrently`);
      throw err;
    }
  }

  async get(requestId: string): Promise<{ state: AccessRequestState; revision: number; position: number }> {
    const loaded = await this.streams.load<AccessRequestEvent>(accessRequestStream(requestId));
    return { state: foldAccessRequest(loaded.events), revision: loaded.revision, position: loaded.position };
  }

  private result(state: AccessRequestState, revision: number, position: number, replayed: boolean): AccessRequestResult {
    if (state.status === 'none') throw new Error('no access request');
    return { requestId: state.requestId, status: state.status, revision, position, replayed };
  }
}
