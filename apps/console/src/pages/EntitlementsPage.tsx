import { useState } from 'react';
import { api, type Entitlement } from '../api/api';
import { AsyncView, Empty, Field, StatusBadge, Table, useAsync, usePager } from '../components';
import { num, Time } from '../format';
import { Link, seg } from '../router';

const STATUSES = ['', 'active', 'suspended', 'revoked', 'expired'] as const;

/** A customer's entitlements: plan, status, validity, grace, seats, features; paginated, filterable by status. */
export function EntitlementsPage({ customerId }: { customerId: string }) {
  return (
    <section>
      <h1>Entitlements of {customerId}</h1>
      <EntitlementList customerId={customerId} />
    </section>
  );
}

export function EntitlementList({ customerId, refresh }: { customerId: string; refresh?: unknown }) {
  const [status, setStatus] = useState<(typeof STATUSES)[number]>('');
  const pager = usePager<string>([customerId, status]);
  const list = useAsync(() => api.entitlementsOf(customerId, { ...(pager.cursor ? { cursor: pager.cursor } : {}), ...(status ? { status } : {}) }), [customerId, pager.cursor, status, refresh]);
  return (
    <div>
      <div className="filters">
        <Field label="Status">
          {(id) => (
            <select
              id={id}
              value={status}
              onChange={(e) => setStatus(e.target.value as typeof status)}
            >
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s || 'any'}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <AsyncView state={list} what="entitlements">
        {(page) =>
          page.items.length === 0 ? (
            <Empty>{status ? `No ${status} entitlements.` : `${customerId} holds no entitlements yet.`}</Empty>
          ) : (
            <>
              <Table label={`Entitlements of ${customerId}`} columns={['Product and plan', 'Status', 'Seats', 'Valid until', 'Grace ends', 'Features']}>
                {page.items.map((e) => (
                  <EntitlementRow key={e.entitlementId} e={e as Entitlement} />
                ))}
              </Table>
              {pager.controls(page.nextCursor, 'Entitlement')}
            </>
          )
        }
      </AsyncView>
    </div>
  );
}

function EntitlementRow({ e }: { e: Entitlement }) {
  const features = Object.keys(e.features ?? {});
  return (
    <tr>
      <td>
        <Link to={`/entitlements/${seg(e.entitlementId)}`}>
          {e.productId} · {e.planId}
        </Link>
        <div className="muted small">{e.planSku}</div>
      </td>
      <td>
        <StatusBadge status={e.status} />
        {e.statusReason ? <div className="muted small">{e.statusReason}</div> : null}
      </td>
      <td>
        {num(e.assignedUserCount)} / {num(e.seats)}
      </td>
      <td>{e.validUntil ? <Time value={e.validUntil} dateOnly /> : 'perpetual'}</td>
      <td>{e.graceEndsAt ? <Time value={e.graceEndsAt} dateOnly /> : `${e.graceDays} days`}</td>
      <td className="small">
        {features.slice(0, 4).join(', ')}
        {features.length > 4 ? ` +${features.length - 4}` : ''}
      </td>
    </tr>
  );
}
