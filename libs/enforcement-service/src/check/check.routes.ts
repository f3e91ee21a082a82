import { Inject, Injectable, Logger, Optional, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import {
  checkBatchRequestSchemaV1,
  checkBatchResponseSchemaV1,
  checkRequestSchemaV1,
  checkResponseSchemaV1,
  MIN_USAGE_POSITION_DOC,
  type CheckBatchRequestV1,
  type CheckBatchResponseV1,
  type CheckRequestV1,
  type CheckResponseV1,
  type DecisionRequestV1,
} from '@el/contracts';
import { catalogDocument, type Catalog, type CheckContext, type CheckRequest, type Decision, type UsageLookup } from '@el/domain';
import { USAGE_LOOKUP, USAGE_PROGRESS, ApiErrorFilter, Authenticator, Clock, CodedError, HTTP_ERROR_TABLE, jsonRoute, loadDocumentFile, Metrics, openApiSchema, principalOf, RateLimiter, seesCustomer, type HttpErrorTable, type Principal, type UsageProgress } from '@el/platform';
import type { FastifyRequest } from 'fastify';
import { ENFORCEMENT_CONFIG, type EnforcementConfig } from '../enforcement.config';
import { EnforcementViewRunner } from '../view/view-runner';
import type { CatalogInForce } from '../view/enforcement-view';
import { DecisionLog } from '../decision-log/decision-log';
import { UsageRecorder } from '../decision-log/usage-recorder';

/**
 * POST /v1/check and /v1/check/batch, served by Fastify directly: the body is
 * validated against the contract's JSON Schema (400 with field paths), the
 * decision comes from the in-memory view, and the response is serialized
 * with its schema. With `minPosition` the check first waits (at most
 * CHECK_MAX_WAIT_MS) for the view to include that ledger position, and with
 * `minUsagePosition` for the usage counters of the check's customer to include
 * that usage position (both waits run together, within the same bound); if
 * either does not get there the answer says `stale: true` — as does every
 * answer while the view is still replaying its topic after a start.
 *
 * Every answer carries the ledger position the view decided at and the
 * catalog version in force there (upgrade hints name that catalog's plans;
 * until the view has read one, the CATALOG_PATH file's, with catalogVersion
 * null). Denials and a sample of allows go to the decision log with the usage
 * values the decision read.
 */
@Injectable()
export class CheckRoutes implements OnModuleInit {
  private readonly logger = new Logger('check');
  /** The catalog file: upgrade hints until the view knows the catalog in force from the ledger. */
  private fileCatalog: Catalog | undefined;
  private readonly recorder: UsageRecorder;
  /** The context for the catalog in force, rebuilt only when that catalog changes. */
  private ctx: { readonly for: CatalogInForce | null; readonly ctx: CheckContext } | null = null;
  private readonly decisions: (code: string) => void;
  private readonly stale;

  constructor(
    @Inject(ENFORCEMENT_CONFIG) private readonly config: EnforcementConfig,
    private readonly runner: EnforcementViewRunner,
    private readonly adapterHost: HttpAdapterHost,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly authenticator: Authenticator,
    private readonly log: DecisionLog,
    @Optional() @Inject(USAGE_LOOKUP) usage?: UsageLookup,
    @Optional() @Inject(USAGE_PROGRESS) private readonly usageProgress?: UsageProgress,
    @Optional() @Inject(HTTP_ERROR_TABLE) private readonly errorTable: HttpErrorTable = {},
  ) {
    const byCode = metrics.fastCounter('enforcement_decisions_total', 'Decisions made by the enforcement API, by code', ['code']);
    const children = new Map<string, { inc(): void }>();
    this.decisions = (code: string) => {
      let c = children.get(code);
      if (!c) children.set(code, (c = byCode.child({ code })));
      c.inc();
    };
    this.stale = metrics.counter('enforcement_stale_answers_total', 'Checks answered stale: minPosition (ledger) or minUsagePosition (usage) not reached within CHECK_MAX_WAIT_MS', ['waited_for']);
    this.recorder = new UsageRecorder(usage);
  }

  onModuleInit(): void {
    const catalog = loadDocumentFile(this.config.CATALOG_PATH, { variable: 'CATALOG_PATH', what: 'catalog', errorName: 'CatalogLoadError', parse: catalogDocument });
    this.fileCatalog = catalog;
    this.logger.log({ label: catalog.label, products: catalog.products.length }, 'catalog file for upgrade hints until the ledger publishes one');
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const filter = new ApiErrorFilter(this.errorTable);
    const toErrorBody = (err: unknown) => filter.toBody(err);
    const limiter = new RateLimiter(this.config.RATE_LIMIT_CHECKS_PER_SECOND);
    const access = { authenticator: this.authenticator, permission: 'checks:run', ...(limiter.enabled ? { limiter } : {}) } as const;

    jsonRoute<CheckRequestV1, CheckResponseV1>(fastify, {
      method: 'POST',
      url: '/v1/check',
      metrics: this.metrics,
      body: checkRequestSchemaV1,
      response: checkResponseSchemaV1,
      toErrorBody,
      access,
      handler: async (body, request) => {
        visible(request, body.customerId);
        this.held(body.customerId);
        const stale = await this.staleAfterWaiting(body.minPosition, body.minUsagePosition !== undefined ? [{ customerId: body.customerId, position: body.minUsagePosition }] : []);
        const at = this.decidingAt(stale);
        const d = this.decide(body, at);
        return { allowed: d.allowed, code: d.code, entitlementId: d.entitlementId, remaining: d.remaining, expiresAt: d.expiresAt, upgradeHint: d.upgradeHint, reason: d.reason, position: at.position, catalogVersion: at.catalogVersion, stale: at.stale };
      },
    });

    jsonRoute<CheckBatchRequestV1, CheckBatchResponseV1>(fastify, {
      method: 'POST',
      url: '/v1/check/batch',
      metrics: this.metrics,
      body: checkBatchRequestSchemaV1,
      response: checkBatchResponseSchemaV1,
      toErrorBody,
      access,
      handler: async (body, request) => {
        for (const c of body.checks) {
          visible(request, c.customerId);
          this.held(c.customerId);
        }
        const usage = body.checks.flatMap((c) => (c.minUsagePosition !== undefined ? [{ customerId: c.customerId, position: c.minUsagePosition }] : []));
        const stale = await this.staleAfterWaiting(body.minPosition, usage);
        // One instant, one position and one catalog for the whole batch: the answers are consistent with each other.
        const at = this.decidingAt(stale);
        const results = new Array<Decision>(body.checks.length);
        for (let i = 0; i < results.length; i++) results[i] = this.decide(body.checks[i]!, at);
        return { position: at.position, catalogVersion: at.catalogVersion, stale: at.stale, results };
      },
    });
  }

  /** A customer whose partition another shard holds (VIEW_PARTITIONS): 421, with where it is, never a wrong NO_ENTITLEMENT. */
  private held(customerId: string): void {
    const elsewhere = this.runner.notHeld(customerId);
    if (elsewhere) throw notHeldError(elsewhere);
  }

  /**
   * Waits, at most CHECK_MAX_WAIT_MS in all, for the view to reach `minPosition` and for each
   * customer's usage counters to reach its usage position; true when any was not reached.
   */
  private async staleAfterWaiting(minPosition: number | undefined, usage: readonly { customerId: string; position: number }[]): Promise<boolean> {
    if (minPosition === undefined && usage.length === 0) return false;
    const wait = this.config.CHECK_MAX_WAIT_MS;
    // The highest position asked per customer: one wait each.
    const perCustomer = new Map<string, number>();
    for (const u of usage) perCustomer.set(u.customerId, Math.max(u.position, perCustomer.get(u.customerId) ?? 0));
    const progress = this.usageProgress;
    const [ledger, ...counters] = await Promise.all([
      minPosition === undefined ? true : this.runner.view.waitFor(minPosition, wait),
      // No usage source in this process: only position 0 is ever reached.
      ...[...perCustomer].map(([customerId, position]) => (position === 0 ? true : progress ? progress.waitFor(customerId, position, wait) : false)),
    ]);
    if (!ledger) this.stale.inc({ waited_for: 'ledger' });
    if (counters.some((ok) => !ok)) this.stale.inc({ waited_for: 'usage' });
    return !ledger || counters.some((ok) => !ok);
  }

  /**
   * What a decision made now is made at: the clock, the view's position and its catalog. Read
   * together and used synchronously, so no message can move the view in between.
   */
  private decidingAt(waitedInVain: boolean): DecidingAt {
    const view = this.runner.view;
    // While the view replays its topic after a start, it may not hold the customer's latest state yet: said, not hidden.
    const stale = waitedInVain || !this.runner.isCaughtUp;
    const catalog = view.catalog;
    if (this.ctx?.for !== catalog) this.ctx = { for: catalog, ctx: { catalog: catalog?.catalog ?? this.fileCatalog, usage: this.recorder.lookup } };
    return { now: this.clock.nowMs(), position: view.position, catalogVersion: catalog?.version ?? null, ctx: this.ctx.ctx, stale };
  }

  private decide(c: Omit<CheckRequestV1, 'minPosition'>, at: DecidingAt): Decision {
    const now = at.now;
    // One shape for every request (absent fields undefined): the decision function stays monomorphic.
    const request: CheckRequest = {
      customerId: c.customerId,
      feature: c.feature,
      productId: c.productId,
      userId: c.userId,
      deviceId: c.deviceId,
      region: c.region,
      quantity: c.quantity,
      atMs: c.at !== undefined ? Date.parse(c.at) : now,
    } as CheckRequest;
    this.recorder.begin();
    const decision = this.runner.view.check(request, at.ctx);
    this.decisions(decision.code);
    if (this.log.keeps(decision)) {
      this.log.record({ request: asReceived(c), atMs: request.atMs!, decidedAtMs: now, decision, position: at.position, catalogVersion: at.catalogVersion, stale: at.stale, usage: this.recorder.recorded() });
    }
    return decision;
  }
}

interface DecidingAt {
  readonly now: number;
  readonly position: number;
  readonly catalogVersion: number | null;
  readonly ctx: CheckContext;
  readonly stale: boolean;
}

/** The check as the caller sent it, without the waits (minPosition, minUsagePosition): what the decision log keeps. */
function asReceived(c: Omit<CheckRequestV1, 'minPosition'>): DecisionRequestV1 {
  const r: { -readonly [K in keyof DecisionRequestV1]: DecisionRequestV1[K] } = { customerId: c.customerId, feature: c.feature };
  if (c.productId !== undefined) r.productId = c.productId;
  if (c.userId !== undefined) r.userId = c.userId;
  if (c.deviceId !== undefined) r.deviceId = c.deviceId;
  if (c.region !== undefined) r.region = c.region;
  if (c.quantity !== undefined) r.quantity = c.quantity;
  if (c.at !== undefined) r.at = c.at;
  return r;
}

/** VIEW.NOT_HELD: the customer's partition is another shard's (README: "Sharding the enforcement view"). */
export function notHeldError(where: { customerId: string; partition: number; holds: readonly number[]; partitions: number }): CodedError {
  return new CodedError(
    'VIEW.NOT_HELD',
    `customer ${where.customerId} is in partition ${where.partition} of ${where.partitions}; this instance holds partitions ${where.holds.join(',')}: send the check to the instance that holds ${where.partition}`,
    where,
  );
}

/** A principal limited to some customers asking about another: 404, as if the customer did not exist. */
function visible(request: FastifyRequest, customerId: string): void {
  const principal = principalOf(request) as Principal;
  if (principal.customers !== null && !seesCustomer(principal, customerId)) {
    throw new CodedError('CUSTOMER.NOT_FOUND', `customer ${customerId} is not visible to this credential`, { customerId });
  }
}

const errorResponse = { description: 'VALIDATION_FAILED with one entry per bad field: {statusCode, code, message, errors: [{path, message, constraint}]}' };

/** For createHttpApp's quietRoutes: checks are counted in /metrics, not logged one by one. */
export const CHECK_ROUTES = ['/v1/check', '/v1/check/batch'] as const;

/** OpenAPI for the routes above (they bypass Nest, so Swagger cannot see them). */
const accessResponses = {
  '401': { description: 'AUTH.MISSING_CREDENTIAL or AUTH.INVALID_CREDENTIAL' },
  '403': { description: 'AUTH.FORBIDDEN: the role does not hold checks:run' },
  '404': { description: 'CUSTOMER.NOT_FOUND: a customer this credential may not see' },
  '421': { description: 'VIEW.NOT_HELD: this instance is a shard (VIEW_PARTITIONS) and another holds the customer\'s partition; details name the partition' },
  '429': { description: 'RATE_LIMITED (RATE_LIMIT_CHECKS_PER_SECOND), with Retry-After' },
};

const DECIDED_AT_DOC =
  'position is the ledger position the decision was made at (the view held exactly the changes up to it) and catalogVersion the catalog version in force there, which upgrade hints name (null until the service has read one from the ledger; hints then come from its CATALOG_PATH file). ' +
  'With the request and its instant, a decision can be recomputed from the ledger\'s history (POST /v1/audit/decisions/replay). Every denial and a sample of allows (DECISION_LOG_ALLOW_SAMPLE) are written to the decision log, enforcement.decisions.v1.';

export const checkApiOpenApiPaths = {
  '/v1/check': {
    post: {
      tags: ['enforcement'],
      summary: 'May this customer (user, device, region) use a feature now? The decision with its reason code, remaining quantity, expiry, upgrade hint, and the ledger position and catalog version it was decided at',
      description: `minPosition (read-your-writes): a ledger position a command answered; the check waits, at most CHECK_MAX_WAIT_MS, for the view to include it, else stale: true. ${MIN_USAGE_POSITION_DOC} ${DECIDED_AT_DOC}`,
      requestBody: { required: true, content: { 'application/json': { schema: openApiSchema(checkRequestSchemaV1) } } },
      responses: { '200': { description: 'The decision', content: { 'application/json': { schema: openApiSchema(checkResponseSchemaV1) } } }, '400': errorResponse, ...accessResponses },
      security: [{ bearer: [] }],
    },
  },
  '/v1/check/batch': {
    post: {
      tags: ['enforcement'],
      summary: 'Up to 1000 checks decided at one instant against one view position and catalog version',
      description: `minPosition applies to the whole batch; minUsagePosition is given per check, for that check's customer. stale is true when any of them was not reached within CHECK_MAX_WAIT_MS. ${MIN_USAGE_POSITION_DOC} ${DECIDED_AT_DOC}`,
      requestBody: { required: true, content: { 'application/json': { schema: openApiSchema(checkBatchRequestSchemaV1) } } },
      responses: { '200': { description: 'The decisions, in request order', content: { 'application/json': { schema: openApiSchema(checkBatchResponseSchemaV1) } } }, '400': errorResponse, ...accessResponses },
      security: [{ bearer: [] }],
    },
  },
};
