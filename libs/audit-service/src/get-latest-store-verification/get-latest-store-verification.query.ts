import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AuditError } from '../audit.errors';
import { StoreVerifications } from '../store-verifications/store-verifications';
import type { StoreVerification } from '../store-verifications/store-verification.view';

/** The newest store verification: running (with its progress) or finished (with its report). */
export class GetLatestStoreVerificationQuery extends Query<StoreVerification> {}

@QueryHandler(GetLatestStoreVerificationQuery)
export class GetLatestStoreVerificationHandler implements IQueryHandler<GetLatestStoreVerificationQuery, StoreVerification> {
  constructor(private readonly verifications: StoreVerifications) {}

  async execute(): Promise<StoreVerification> {
    const latest = this.verifications.latest();
    if (!latest) throw new AuditError('AUDIT.NO_VERIFICATION', 'no store verification has run since the audit service started: POST /v1/audit/verifications starts one');
    return latest;
  }
}
