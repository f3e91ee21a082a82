import { createHash } from 'node:crypto';
import type { EventStore } from '@el/event-store';

/**
 * Which installation a process belongs to, for the views that read
 * ledger.entitlements.v1: an installation is one event store's log, named by
 * its first event — its id and the instant it was recorded (the id alone can be
 * the same in two logs: the catalog's first version has a content-derived id).
 * Stable, and the same for every process that reads that store. The relay stamps it on every message it publishes; a
 * view skips another installation's messages, whose positions are not its own.
 */
export const LEDGER_INSTALLATION = Symbol('LEDGER_INSTALLATION');

export class LedgerInstallation {
  private fromStore: string | null = null;

  constructor(
    /** LEDGER_INSTALLATION_ID: a process without the event store (the enforcement service) says which installation it serves. */
    private readonly configured: string | null,
    private readonly store: EventStore | null,
  ) {}

  /** The installation this process serves: configured, or its event store's; null when neither is known yet (an empty store, no setting). */
  async expected(): Promise<string | null> {
    if (this.configured) return this.configured;
    if (!this.store) return null;
    this.fromStore ??= await installationOf(this.store);
    return this.fromStore;
  }

  /** Where `expected()` comes from, for health reports. */
  get source(): 'LEDGER_INSTALLATION_ID' | 'event store' | 'first message read' {
    return this.configured ? 'LEDGER_INSTALLATION_ID' : this.store ? 'event store' : 'first message read';
  }
}

/** The installation id of a log (from its first event); null while the log is empty. */
export async function installationOf(store: EventStore): Promise<string | null> {
  const [first] = await store.readAll({ after: 0, maxCount: 1 });
  return first ? createHash('sha256').update(`${first.id}\n${first.recordedAt}`).digest('base64url').slice(0, 22) : null;
}
