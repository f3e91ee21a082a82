import { DUNNING_EVENT_TYPES, dunningStatus, evolveDunning, initialDunningState, suspensionDueAt, type DunningEvent } from '@el/domain';
import { DunningEntity } from '../schema/entities';
import type { DunningRow } from '../schema/rows';
import type { Projection } from './projection';

/** Each customer's dunning, evolved with the domain's own `evolve`: what is unpaid and when it suspends. */
export const dunningProjection: Projection<DunningRow> = {
  name: 'dunning',
  entity: DunningEntity,
  handles: DUNNING_EVENT_TYPES,
  keyOf: (e) => (e.data as { customerId: string }).customerId,
  evolve(row, event) {
    const s = evolveDunning(row?.state ?? initialDunningState, event as unknown as DunningEvent);
    if (s.customerId === null) return row;
    return {
      customerId: s.customerId,
      status: dunningStatus(s),
      suspendAt: suspensionDueAt(s),
      unpaidInvoices: Object.keys(s.unpaid).length,
      suspendedEntitlements: Object.keys(s.suspended).length,
      updatedAt: event.metadata.recordedAt ?? row?.updatedAt ?? '',
      state: s,
      lastRevision: event.revision,
      lastPosition: event.position,
    };
  },
};
