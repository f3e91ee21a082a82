import { api } from '../api/api';
import { AsyncView, Empty, Table, useAsync, usePager } from '../components';
import { actorOf, Time } from '../format';

/** An entitlement's or a customer's history from the audit log: who, what, when, why, from where. */
export function Timeline({ query, label = 'Timeline', refresh }: { query: { entitlementId?: string; customerId?: string; types?: string }; label?: string; refresh?: unknown }) {
  const key = JSON.stringify(query);
  const pager = usePager<number>([key]);
  const page = useAsync(() => api.history({ ...query, ...(pager.cursor !== undefined ? { cursor: pager.cursor } : {}) }), [key, pager.cursor, refresh]);
  return (
    <>
      <button type="button" className="link refresh" onClick={page.reload} disabled={page.loading}>
        Refresh {label.toLowerCase()}
      </button>
      <AsyncView state={page} what="the history">
        {(h) =>
          h.items.length === 0 ? (
            <Empty>Nothing recorded yet (the audit log may still be catching up).</Empty>
          ) : (
            <>
              <Table label={label} columns={['When', 'What', 'Who', 'Why', 'Source', 'Position']}>
                {h.items.map((i) => (
                  <tr key={i.position}>
                    <td>
                      <Time value={i.recordedAt} />
                      {i.effectiveAt && i.effectiveAt !== i.recordedAt && (
                        <div className="small muted">
                          effective <Time value={i.effectiveAt} />
                        </div>
                      )}
                    </td>
                    <td>
                      {i.type}
                      <Details data={i.data} />
                    </td>
                    <td className="small">{actorOf(i.actor)}</td>
                    <td>{i.reason ?? note(i.data) ?? <span className="muted">—</span>}</td>
                    <td className="small">{typeof i.source === 'string' ? i.source : actorOf(i.source)}</td>
                    <td>{i.position}</td>
                  </tr>
                ))}
              </Table>
              {pager.controls(h.nextCursor, label)}
            </>
          )
        }
      </AsyncView>
    </>
  );
}

/** The fields of an event people ask about first (the full event is in the audit export). */
const SHOWN = ['planSku', 'sku', 'fromPlanSku', 'toPlanSku', 'quantity', 'seats', 'userId', 'deviceId', 'orderId', 'requestId', 'validUntil'] as const;

function Details({ data }: { data: unknown }) {
  if (!data || typeof data !== 'object') return null;
  const d = data as Record<string, unknown>;
  const parts = SHOWN.filter((k) => typeof d[k] === 'string' || typeof d[k] === 'number').map((k) => `${k} ${String(d[k])}`);
  return parts.length ? <div className="small muted">{parts.join(' · ')}</div> : null;
}

/** An approval's comment or a decision's note, when the event has no reason. */
function note(data: unknown): string | null {
  const d = (data ?? {}) as Record<string, unknown>;
  for (const k of ['comment', 'note', 'decisionNote']) if (typeof d[k] === 'string' && d[k]) return d[k] as string;
  return null;
}
