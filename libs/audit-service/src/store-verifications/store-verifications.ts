import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { EVENT_STORE, storedEvents, type EventStore } from '@el/event-store';
import { Clock, IdGenerator, nextTurn, type Keystore } from '@el/platform';
import { AUDIT_DB, AUDIT_KEYSTORE } from '../audit.config';
import { AuditLog } from '../log/audit-log';
import { checkStore, type StoreCheckReport } from '../verify/check-store';
import type { StoreVerification, StoreVerificationState } from './store-verification.view';

/** Runs kept in memory, newest last: enough to answer the latest one after a restart-free day of checks. */
const KEPT = 10;
/** Leaves per page: the longest stretch a run holds the event loop is one page (~10 ms at ~140,000 events/s). */
const PAGE = 1_000;

interface Run {
  readonly id: string;
  state: StoreVerificationState;
  readonly startedAt: string;
  finishedAt: string | null;
  readonly requestedBy: string;
  progress: { done: number; total: number };
  report: StoreCheckReport | null;
  error?: string;
}

/**
 * check-store (`checkStore`) as a background job of the audit service: one
 * run at a time — asking while one runs answers that run — with its progress,
 * then its report. Runs are kept in memory (the newest few); a restart
 * forgets them. The check reads the event store as stored (before upcasters),
 * the audit store and this service's own tree-head keys, as the command line
 * does, and hands the event loop back between pages.
 */
@Injectable()
export class StoreVerifications implements BeforeApplicationShutdown {
  private readonly logger = new Logger('audit');
  private readonly runs: Run[] = [];
  private current: { readonly run: Run; readonly stop: AbortController; readonly done: Promise<void> } | null = null;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(AUDIT_DB) private readonly db: DataSource,
    @Inject(AUDIT_KEYSTORE) private readonly keystore: Keystore,
    private readonly log: AuditLog,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  /** The run in progress, or a new one started now (synchronously: two requests can never start two). */
  start(requestedBy: string): StoreVerification {
    if (this.current) return view(this.current.run);
    const run: Run = { id: this.ids.random(), state: 'running', startedAt: this.clock.now().toISOString(), finishedAt: null, requestedBy, progress: { done: 0, total: this.log.size }, report: null };
    this.runs.push(run);
    if (this.runs.length > KEPT) this.runs.shift();
    const stop = new AbortController();
    this.current = { run, stop, done: this.execute(run, stop.signal) };
    this.logger.log({ verification: run.id, requestedBy }, 'store verification started');
    return view(run);
  }

  /** The newest run (running or finished), or null when none ran since the service started. */
  latest(): StoreVerification | null {
    const run = this.runs[this.runs.length - 1];
    return run ? view(run) : null;
  }

  /** A run in progress stops at its next page; the stores close after it. */
  async beforeApplicationShutdown(): Promise<void> {
    const current = this.current;
    if (!current) return;
    current.stop.abort(new Error('the service shut down during the check'));
    await current.done;
  }

  private async execute(run: Run, signal: AbortSignal): Promise<void> {
    try {
      // Answer the request first: the check begins on the next turn of the event loop.
      await nextTurn();
      const report = await checkStore(storedEvents(this.store), this.db, this.keystore.jwks(this.clock.now()), {
        pageSize: PAGE,
        signal,
        onProgress: (done, total) => (run.progress = { done, total: Math.max(done, total) }),
      });
      run.report = report;
      run.progress = { done: report.events, total: Math.max(report.events, run.progress.total) };
      run.state = report.ok ? 'passed' : 'failed';
      if (report.ok) this.logger.log({ verification: run.id, events: report.events, treeHeads: report.treeHeads }, 'store verification passed');
      else this.logger.error({ verification: run.id, events: report.events, findings: report.findings.slice(0, 10) }, `store verification failed: ${report.findings.length} discrepanc${report.findings.length === 1 ? 'y' : 'ies'}`);
    } catch (err) {
      run.state = 'error';
      run.error = err instanceof Error ? err.message : String(err);
      this.logger.error({ verification: run.id, err }, 'store verification could not finish');
    } finally {
      run.finishedAt = this.clock.now().toISOString();
      this.current = null;
    }
  }
}

/** A copy of the run as it is now (the run itself keeps changing while it runs). */
function view(run: Run): StoreVerification {
  return {
    id: run.id,
    state: run.state,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    requestedBy: run.requestedBy,
    progress: { ...run.progress },
    report: run.report,
    ...(run.error !== undefined ? { error: run.error } : {}),
  };
}
