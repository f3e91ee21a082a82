import { useState, type ReactNode } from 'react';
import { api, type Entitlement } from '../api/api';
import type { AccessRequestItem } from '../api/server-types';
import { ActionForm, AsyncView, Empty, Field, Notice, StatusBadge, Table, useAsync, usePager } from '../components';
import { num, Time } from '../format';
import { Link, seg, useLocation } from '../router';

type Status = 'pending' | 'approved' | 'rejected';

/**
 * A customer asks for a product, plan or add-on, and follows its requests.
 * From an entitlement (the upgrade prompt), the request is for that
 * entitlement: another plan of its product (an upgrade or a downgrade of it,
 * not a second entitlement) or one of its add-ons.
 */
export function RequestsPage({ customerId }: { customerId: string }) {
  const { query } = useLocation();
  const entitlementId = query.get('entitlementId') ?? '';
  const loaded = useAsync(async () => ({ catalog: await api.catalog(), entitlement: entitlementId ? ((await api.entitlement(entitlementId)) as Entitlement) : null }), [entitlementId]);
  const [sku, setSku] = useState('');
  const [quantity, setQuantity] = useState('1');
  const [reason, setReason] = useState(query.get('feature') ? `We are near the ${query.get('feature')} cap` : '');
  const [notice, setNotice] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  return (
    <section>
      <h1>Access requests of {customerId}</h1>
      <h2>{entitlementId ? 'Ask for a change to an entitlement' : 'Ask for a product, plan or add-on'}</h2>
      <AsyncView state={loaded} what="the catalog">
        {({ catalog: c, entitlement: e }) => {
          const products = e ? c.products.filter((p) => p.id === e.productId) : c.products;
          // From an entitlement: the next plan up is what the prompt is about.
          const suggested = e ? products[0]?.plans.filter((p) => p.tier > e.tier).sort((a, b) => a.tier - b.tier)[0]?.sku : undefined;
          const chosen = sku || suggested || '';
          return (
            <ActionForm
              label="Send request"
              busyLabel="Sending…"
              submit={() => api.requestAccess({ customerId, sku: chosen, quantity: Number(quantity), reason: reason.trim(), ...(e ? { entitlementId: e.entitlementId } : {}) })}
              onDone={(r) => {
                setNotice(`Request ${r.requestId} sent: ${r.status}. An approver will decide.`);
                setSku('');
                setQuantity('1');
                setReason('');
                setTick((t) => t + 1);
              }}
            >
              {e && (
                <p className="for-entitlement">
                  For your{' '}
                  <Link to={`/entitlements/${seg(e.entitlementId)}`}>
                    {e.productId} · {e.planId}
                  </Link>{' '}
                  entitlement: a plan here changes its plan (no second entitlement); an add-on extends it. <Link to="/requests">Ask for something else</Link>
                </p>
              )}
              <Field label="What">
                {(id) => (
                  <select id={id} value={chosen} required onChange={(ev) => setSku(ev.target.value)}>
                    <option value="">Choose…</option>
                    {products.map((p) => (
                      <optgroup key={p.id} label={p.name}>
                        {p.plans
                          .filter((plan) => !e || plan.sku !== e.planSku)
                          .map((plan) => (
                            <option key={plan.sku} value={plan.sku}>
                              {p.name} — {plan.name} plan{e ? (plan.tier > e.tier ? ' (upgrade)' : ' (downgrade)') : ''}
                            </option>
                          ))}
                        {c.addOns
                          .filter((a) => a.productId === p.id)
                          .map((a) => (
                            <option key={a.sku} value={a.sku} disabled={!e}>
                              {p.name} — add-on: {a.name}
                              {e ? '' : ' (ask from the entitlement it extends)'}
                            </option>
                          ))}
                      </optgroup>
                    ))}
                  </select>
                )}
              </Field>
              <Field label="Quantity">{(id) => <input id={id} type="number" min={1} max={100000} required value={quantity} onChange={(ev) => setQuantity(ev.target.value)} />}</Field>
              <Field label="Why" hint="Shown to the approver and kept with the request.">
                {(id, hint) => <textarea id={id} aria-describedby={hint} required maxLength={500} rows={2} value={reason} onChange={(ev) => setReason(ev.target.value)} />}
              </Field>
            </ActionForm>
          );
        }}
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
