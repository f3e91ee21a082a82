import { useState } from 'react';
import { api } from '../api/api';
import { can, useMe } from '../App';
import { ActionForm, AsyncView, Field, Notice, useAsync } from '../components';
import { Link, seg } from '../router';
import { EntitlementList } from './EntitlementsPage';
import { UsageOverview } from './UsagePage';
import { RequestList } from './RequestsPage';
import { Timeline } from './Timeline';

/** ORDER_TYPES: the order events of the customer's history (its orders, fulfilled or rejected). */
const ORDER_TYPES = 'OrderReceived,OrderFulfilled,OrderRejected';

/** A customer for operators: entitlements, usage and alerts, requests, orders; grant a plan. */
export function CustomerPage({ customerId }: { customerId: string }) {
  const me = useMe();
  const [granted, setGranted] = useState(0);
  return (
    <section>
      <p className="crumbs">
        <Link to="/customers">Customers</Link> › {customerId}
      </p>
      <h1>{customerId}</h1>
      <h2>Entitlements</h2>
      <EntitlementList customerId={customerId} refresh={granted} />
      {can(me, 'entitlements:grant') && <Grant customerId={customerId} onGranted={() => setGranted((n) => n + 1)} />}
      {can(me, 'usage:read') && (
        <>
          <h2>Usage and alerts</h2>
          <UsageOverview customerId={customerId} />
        </>
      )}
      {can(me, 'access-requests:read') && (
        <>
          <h2>Access requests</h2>
          <RequestList customerId={customerId} />
        </>
      )}
      {can(me, 'audit:read') && (
        <>
          <h2>Orders</h2>
          <Timeline query={{ customerId, types: ORDER_TYPES }} label="Orders" />
        </>
      )}
    </section>
  );
}

function Grant({ customerId, onGranted }: { customerId: string; onGranted: () => void }) {
  const catalog = useAsync(() => api.catalog(), []);
  const [sku, setSku] = useState('');
  const [quantity, setQuantity] = useState('1');
  const [notice, setNotice] = useState<React.ReactNode>(null);
  return (
    <details className="grant">
      <summary>Grant a plan</summary>
      <AsyncView state={catalog} what="the catalog">
        {(c) => (
          <ActionForm
            label="Grant"
            busyLabel="Granting…"
            submit={() => api.grant({ customerId, sku, quantity: Number(quantity) })}
            onDone={(r) => {
              onGranted();
              setNotice(
                <>
                  Granted. <Link to={`/entitlements/${seg(r.entitlementId)}`}>Open the entitlement</Link>
                </>,
              );
            }}
          >
            <Field label="Plan">
              {(id) => (
                <select id={id} value={sku} required onChange={(e) => setSku(e.target.value)}>
                  <option value="">Choose a plan…</option>
                  {c.products.flatMap((p) =>
                    p.plans.map((plan) => (
                      <option key={plan.sku} value={plan.sku}>
                        {p.name} — {plan.name}
                      </option>
                    )),
                  )}
                </select>
              )}
            </Field>
            <Field label="Quantity">{(id) => <input id={id} type="number" min={1} max={100000} required value={quantity} onChange={(e) => setQuantity(e.target.value)} />}</Field>
          </ActionForm>
        )}
      </AsyncView>
      <Notice text={notice} />
    </details>
  );
}
