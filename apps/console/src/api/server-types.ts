/**
 * What the routes the OpenAPI document describes only in prose answer, typed
 * from the server's own declarations (type-only: nothing of the server is
 * bundled; lint allows only `import type` of @el/* here). A server change that
 * breaks the console fails its typecheck.
 */
import type { AccessRequestPage, AccessRequestResult, AccessRequestView, CustomerSummary, GetCatalogController, SeatAssignmentPage } from '@el/ledger-service';
import type { UsageController } from '@el/metering-service';
import type { DecisionsController, HistoryItem, HistoryPage } from '@el/audit-service';
import type { DecisionRecordV1, DecisionReplayRequestV1, SignedTreeHeadV1 } from '@el/contracts';

export type { AccessRequestPage, AccessRequestResult, AccessRequestView, CustomerSummary, SeatAssignmentPage, HistoryItem, HistoryPage, DecisionRecordV1, DecisionReplayRequestV1, SignedTreeHeadV1 };
export type AccessRequestItem = AccessRequestPage['items'][number];
export type CatalogAnswer = ReturnType<GetCatalogController['current']>;
export type UsageAnswer = ReturnType<UsageController['usage']>;
export type MeterStanding = UsageAnswer['meters'][number];
export type SeriesAnswer = Awaited<ReturnType<UsageController['seriesOf']>>;
export type AlertsAnswer = Awaited<ReturnType<UsageController['alertsOf']>>;
export type DecisionPage = Awaited<ReturnType<DecisionsController['list']>>;
export type ReplayAnswer = Awaited<ReturnType<DecisionsController['replay']>>;
export type { ActiveDevice, FeatureGrant, PlanSpec } from '@el/domain';
