import { useState, type ReactNode } from 'react';
import { api } from '../api/api';
import type { AccessRequestItem } from '../api/server-types';
import { ActionForm, AsyncView, Empty, Field, Notice, StatusBadge, Table, useAsync, usePager } from '../components';
import { num, Time } from '../format';
import { Link, seg, useLocation } from '../router';

type Status = 'pending' | 'approved' | 'rejected';

/** A customer asks for a product, plan or add-on, and follows its requests. */
export function RequestsPage({ customerId }: { customerId: string }) {
  const { query } = useLocation();
  const catalog = useAsync(() => api.catalog(), []);
  const [sku, setSku] = useState('');
  const [quantity, setQuantity] = useState('1');
  const [reason, setReason] = useState(query.get('feature') ? `We are near the ${query.get('feature')} cap` : '');
  const entitlementId = query.get('entitlementId') ?? '';
  const [notice, setNotice] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  return (
    <section>
      <h1>Access requests of {customerId}</h1>
      <h2>Ask for a product, plan or add-on</h2>
      <AsyncView state={catalog} what="the catalog">
        {(c) => (
          <ActionForm
            label="Send request"
            busyLabel="Sending…"
            submit={() => api.requestAccess({ customerId, sku, quantity: Number(quantity), reason: reason.trim(), ...(entitlementId ? { entitlementId } : {}) })}
            onDone={(r) => {
              setNotice(`Request ${r.requestId} sent: ${r.status}. An approver will decide.`);
              setTick((t) => t + 1);
            }}
          >
            <Field label="What">
              {(id) => (
                <select id={id} value={sku} required onChange={(e) => setSku(e.target.value)}>
                  <option value="">Choose…</option>
                  {c.products.map((p) => (
                    <optgroup key={p.id} label={p.name}>
                      {p.plans.map((plan) => (
                        <option key={plan.sku} value={plan.sku}>
                          {p.name} — {plan.name} plan
                        </option>
                      ))}
                      {c.addOns
                        .filter((a) => a.productId === p.id)
                        .map((a) => (
                          <option key={a.sku} value={a.sku}>
                            {p.name} — add-on: {a.name}
                          </option>
                        ))}
                    </optgroup>
                  ))}
                </select>
              )}
            </Field>
            <Field label="Quantity">{(id) => <input id={id} type="number" min={1} max={100000} required value={quantity} onChange={(e) => setQuantity(e.target.value)} />}</Field>
            <Field label="Why" hint="Shown to the approver and kept with the request.">
              {(id, hint) => <textarea id={id} aria-describedby={hint} required maxLength={500} rows={2} value={reason} onChange={(e) => setReason(e.target.value)} />}
            </Field>
            {entitlementId && (
              <p className="muted small">
                For entitlement <Link to={`/entitlements/${seg(entitlementId)}`}>{entitlementId}</Link>
              </p>
            )}
          </ActionForm>
        )}
      </AsyncView>
      <Notice text={notice} />
      <RequestList customerId={customerId} refresh={tick} />
    </section>
  );
}

export function RequestList({ customerId, refresh = 0, actions }: { customerId?: string; refresh?: number; actions?: (r: AccessRequestItem, done: (what: ReactNode) => void) => ReactNode }) {
  const [status, setStatus] = useState<Status>('pending');
  const pager = usePager<string>([status, customerId]);
  const [notice, setNotice] = useState<ReactNode>(null);
  const [tick, setTick] = useState(0);
  const list = useAsync(() => api.requests({ status, ...(customerId ? { customerId } : {}), ...(pager.cursor ? { cursor: pager.cursor } : {}) }), [status, customerId, pager.cursor, refresh, tick]);
  return (
    <div>
      <div className="filters" role="group" aria-label="Request status">
        {(['pending', 'approved', 'rejected'] as const).map((s) => (
          <button
            key={s}
            type="button"
            aria-pressed={status === s}
            onClick={() => setStatus(s)}
          >
            {s}
          </button>
        ))}
      </div>
      <Notice text={notice} />
      <AsyncView state={list} what="requests">
        {(page) =>
          page.items.length === 0 ? (
            <Empty>No {status} requests.</Empty>
          ) : (
            <>
              <Table label={`${status} requests`} columns={['Requested', !customerId && 'Customer', 'What', 'By', 'Why', 'Status', !!actions && status === 'pending' && 'Decision']}>
                {page.items.map((r) => (
                  <tr key={r.requestId}>
                    <td>
                      <Time value={r.requestedAt} />
                    </td>
                    {!customerId && (
                      <td>
                        <Link to={`/customers/${seg(r.customerId)}`}>{r.customerId}</Link>
                      </td>
                    )}
                    <td>
                      {r.sku} × {num(r.quantity)} <span className="muted small">({r.kind === 'add_on' ? 'add-on' : 'plan'})</span>
                    </td>
                    <td className="small">{r.requestedBy}</td>
                    <td>{r.reason}</td>
                    <td>
                      <StatusBadge status={r.status} />
                      {r.decidedAt && (
                        <div className="small muted">
                          by {r.decidedBy}, <Time value={r.decidedAt} />
                          {r.decisionNote ? ` — ${r.decisionNote}` : ''}
                        </div>
                      )}
                      {r.entitlementId && r.status === 'approved' && (
                        <div className="small">
                          <Link to={`/entitlements/${seg(r.entitlementId)}`}>the entitlement</Link>
                        </div>
                      )}
                    </td>
                    {actions && status === 'pending' && (
                      <td>
                        {actions(r, (what) => {
                          setNotice(what);
                          setTick((t) => t + 1);
                        })}
                      </td>
                    )}
                  </tr>
                ))}
              </Table>
              {pager.controls(page.nextCursor, 'Request')}
            </>
          )
        }
      </AsyncView>
    </div>
  );
}
