import { useState } from 'react';
import { api, type Entitlement } from '../api/api';
import type { ActiveDevice, FeatureGrant } from '../api/server-types';
import { can, NotFound, useMe } from '../App';
import { ApiError } from '../api/client';
import { ActionForm, AsyncView, Empty, ErrorBox, Field, isStale, Notice, StatusBadge, Table, useAsync, usePager } from '../components';
import { formatLocal, fromLocalInput, num, Time, toLocalInput, ZONE } from '../format';
import { Link, seg } from '../router';
import { UsageChart } from '../charts';
import { Timeline } from './Timeline';

/** One entitlement: terms and features, seats, devices, usage, a license token; for operators its actions, timeline and past states. */
export function EntitlementPage({ id }: { id: string }) {
  const me = useMe();
  const state = useAsync(() => api.entitlement(id), [id]);
  const [notice, setNotice] = useState<string | null>(null);
  const [staleError, setStaleError] = useState<unknown>(null);
  if (state.error instanceof ApiError && state.error.status === 404) return <NotFound text={`There is no entitlement ${id} that you can see.`} />;
  const done = (what: string) => {
    setStaleError(null);
    setNotice(what);
    state.reload();
  };
  // A write refused for a stale revision: said at the top (the form that tried may be gone), and the page shows the state as it is now.
  const stale = (err: unknown): boolean => {
    if (!isStale(err)) return false;
    setNotice(null);
    setStaleError(err);
    state.reload();
    return true;
  };
  return (
    <AsyncView state={state} what="the entitlement">
      {(raw) => {
        const e = raw as Entitlement;
        return (
          <article>
            <p className="crumbs">
              {can(me, 'entitlements:read') && !me.customers ? <Link to={`/customers/${seg(e.customerId)}`}>{e.customerId}</Link> : e.customerId} › entitlement
            </p>
            <h1>
              {e.productId} · {e.planId} <StatusBadge status={e.status} />
            </h1>
            {me.customers && can(me, 'access-requests:create') && e.status !== 'revoked' && (
              <p>
                <Link to={`/requests?entitlementId=${seg(e.entitlementId)}`}>Ask for an upgrade or an add-on</Link>
              </p>
            )}
            <Notice text={notice} />
            <ErrorBox error={staleError} />
            {staleError ? <p className="muted">Shown as it is now (revision {e.revision}); try again if it still applies.</p> : null}
            <Terms e={e} />
            <Features features={e.features as Record<string, FeatureGrant>} />
            <Seats e={e} onChanged={done} onStale={stale} />
            <Devices e={e} onChanged={done} onStale={stale} />
            {can(me, 'usage:read') && <EntitlementUsage e={e} />}
            {can(me, 'tokens:issue') && <TokenDownload e={e} />}
            {can(me, 'entitlements:manage') && <OperatorActions e={e} onChanged={done} onStale={stale} />}
            {can(me, 'audit:read') && (
              <section aria-labelledby="timeline-h">
                <h2 id="timeline-h">Timeline</h2>
                <Timeline query={{ entitlementId: e.entitlementId }} label="Changes to this entitlement" refresh={e.revision} />
              </section>
            )}
            <AsOf id={e.entitlementId} />
          </article>
        );
      }}
    </AsyncView>
  );
}

/** The terms; `past`: a state as of a moment, whose revision is not what If-Match would take now. */
function Terms({ e, past = false }: { e: Entitlement; past?: boolean }) {
  return (
    <dl className="terms">
      <div>
        <dt>Plan</dt>
        <dd>
          {e.planSku} (tier {e.tier}, catalog v{e.catalogVersion})
        </dd>
      </div>
      <div>
        <dt>Status</dt>
        <dd>
          {e.status}
          {e.statusReason ? ` — ${e.statusReason}` : ''}
        </dd>
      </div>
      <div>
        <dt>Valid</dt>
        <dd>
          <Time value={e.validFrom} /> → {e.validUntil ? <Time value={e.validUntil} /> : 'perpetual'}
        </dd>
      </div>
      <div>
        <dt>Grace</dt>
        <dd>{e.graceEndsAt ? <Time value={e.graceEndsAt} /> : `${e.graceDays} days after expiry`}</dd>
      </div>
      <div>
        <dt>Seats</dt>
        <dd>
          {num(e.assignedUserCount)} of {num(e.seats)} assigned
        </dd>
      </div>
      <div>
        <dt>Devices</dt>
        <dd>
          {num(e.devices.length)} of {e.deviceLimit === null ? 'unlimited' : num(e.deviceLimit)}
        </dd>
      </div>
      <div>
        <dt>Regions</dt>
        <dd>{e.regions ? e.regions.join(', ') : 'everywhere'}</dd>
      </div>
      {past ? (
        <div>
          <dt>Last change before</dt>
          <dd>
            <Time value={e.updatedAt} />
          </dd>
        </div>
      ) : (
        <div>
          <dt>Revision</dt>
          <dd>
            {e.revision} (updated <Time value={e.updatedAt} />)
          </dd>
        </div>
      )}
    </dl>
  );
}

function Features({ features }: { features: Record<string, FeatureGrant> }) {
  const rows = Object.entries(features);
  return (
    <section aria-labelledby="features-h">
      <h2 id="features-h">Features</h2>
      {rows.length === 0 ? (
        <Empty>No features.</Empty>
      ) : (
        <Table label="Features" columns={['Feature', 'Limit', 'Metered']}>
          {rows.map(([name, g]) => (
            <tr key={name}>
              <td>{name}</td>
              <td>{g.limit !== undefined ? num(g.limit) : '—'}</td>
              <td>{g.meter ? `${num(g.meter.cap)} per ${g.meter.period} (${g.meter.capType} cap)` : '—'}</td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}

function Seats({ e, onChanged, onStale }: { e: Entitlement; onChanged: (what: string) => void; onStale: (err: unknown) => boolean }) {
  const me = useMe();
  const pager = usePager<string>([e.entitlementId]);
  const seats = useAsync(() => api.seats(e.entitlementId, pager.cursor), [e.entitlementId, e.revision, pager.cursor]);
  const [userId, setUserId] = useState('');
  const manage = can(me, 'seats:manage') && e.status === 'active';
  return (
    <section aria-labelledby="seats-h">
      <h2 id="seats-h">
        Seats <span className="muted">({num(e.assignedUserCount)} of {num(e.seats)})</span>
      </h2>
      {manage && (
        <ActionForm
          label="Assign seat"
          busyLabel="Assigning…"
          submit={() => api.assignSeat(e.entitlementId, e.revision, userId.trim())}
          onError={onStale}
          onDone={() => {
            onChanged(`Seat assigned to ${userId.trim()}.`);
            setUserId('');
          }}
        >
          <Field label="User id">{(id) => <input id={id} value={userId} required maxLength={128} onChange={(ev) => setUserId(ev.target.value)} />}</Field>
        </ActionForm>
      )}
      <AsyncView state={seats} what="seat assignments">
        {(page) =>
          page.items.length === 0 ? (
            <Empty>No seat is assigned yet.</Empty>
          ) : (
            <>
              <Table label="Seat assignments" columns={['User', 'Assigned', manage && 'Action']}>
                {page.items.map((s) => (
                  <tr key={s.userId}>
                    <td>{s.userId}</td>
                    <td>
                      <Time value={s.assignedAt} />
                    </td>
                    {manage && (
                      <td>
                        <ActionForm className="inline" label={`Release ${s.userId}`} busyLabel="Releasing…" submit={() => api.releaseSeat(e.entitlementId, e.revision, s.userId)} onDone={() => onChanged(`Seat of ${s.userId} released.`)} onError={onStale} />
                      </td>
                    )}
                  </tr>
                ))}
              </Table>
              {pager.controls(page.nextCursor, 'Seat')}
            </>
          )
        }
      </AsyncView>
    </section>
  );
}

function Devices({ e, onChanged, onStale }: { e: Entitlement; onChanged: (what: string) => void; onStale: (err: unknown) => boolean }) {
  const me = useMe();
  const devices = e.devices as unknown as ActiveDevice[];
  const [deviceId, setDeviceId] = useState('');
  const [userId, setUserId] = useState('');
  const manage = can(me, 'devices:manage') && e.status === 'active';
  return (
    <section aria-labelledby="devices-h">
      <h2 id="devices-h">
        Devices <span className="muted">({num(devices.length)} of {e.deviceLimit === null ? 'unlimited' : num(e.deviceLimit)})</span>
      </h2>
      {manage && (
        <ActionForm
          label="Activate device"
          busyLabel="Activating…"
          submit={() => api.activateDevice(e.entitlementId, e.revision, { deviceId: deviceId.trim(), ...(userId.trim() ? { userId: userId.trim() } : {}) })}
          onError={onStale}
          onDone={() => {
            onChanged(`Device ${deviceId.trim()} activated.`);
            setDeviceId('');
            setUserId('');
          }}
        >
          <Field label="Device id">{(id) => <input id={id} value={deviceId} required maxLength={128} onChange={(ev) => setDeviceId(ev.target.value)} />}</Field>
          <Field label="User id (optional)">{(id) => <input id={id} value={userId} maxLength={128} onChange={(ev) => setUserId(ev.target.value)} />}</Field>
        </ActionForm>
      )}
      {devices.length === 0 ? (
        <Empty>No device is active.</Empty>
      ) : (
        <Table label="Active devices" columns={['Device', 'User', 'Activated', manage && 'Action']}>
          {devices.map((d) => (
            <tr key={d.deviceId}>
              <td>{d.deviceId}</td>
              <td>{d.userId ?? '—'}</td>
              <td>
                <Time value={d.activatedAt} />
              </td>
              {manage && (
                <td>
                  <ActionForm className="inline" label={`Deactivate ${d.deviceId}`} busyLabel="Deactivating…" submit={() => api.deactivateDevice(e.entitlementId, e.revision, d.deviceId)} onDone={() => onChanged(`Device ${d.deviceId} deactivated.`)} onError={onStale} />
                </td>
              )}
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}

function EntitlementUsage({ e }: { e: Entitlement }) {
  const metered = Object.entries(e.features as Record<string, FeatureGrant>).filter((f): f is [string, FeatureGrant & { meter: NonNullable<FeatureGrant['meter']> }] => f[1].meter !== undefined);
  if (metered.length === 0) return null;
  return (
    <section aria-labelledby="usage-h">
      <h2 id="usage-h">Usage this period</h2>
      <div className="charts">
        {metered.map(([feature, g]) => (
          <UsageChart key={feature} customerId={e.customerId} entitlementId={e.entitlementId} feature={feature} period={g.meter.period} />
        ))}
      </div>
    </section>
  );
}

function TokenDownload({ e }: { e: Entitlement }) {
  const [userId, setUserId] = useState('');
  const [issued, setIssued] = useState<string | null>(null);
  return (
    <section aria-labelledby="token-h">
      <h2 id="token-h">License token</h2>
      <p className="muted">A signed token with every entitlement of {e.customerId}, for applications that check offline (verify it with the keys at /.well-known/jwks.json).</p>
      <ActionForm
        label="Download license token"
        busyLabel="Issuing…"
        submit={() => api.issueToken({ customerId: e.customerId, ...(userId.trim() ? { userId: userId.trim() } : {}) })}
        onDone={(t) => {
          download(new Blob([t.token], { type: 'application/jwt' }), `license-${e.customerId}${userId.trim() ? `-${userId.trim()}` : ''}.jwt`);
          setIssued(`Token ${t.tokenId} issued; it expires ${formatLocal(t.expiresAt)}.`);
        }}
      >
        <Field label="For user (optional)">{(id) => <input id={id} value={userId} maxLength={128} onChange={(ev) => setUserId(ev.target.value)} />}</Field>
      </ActionForm>
      <Notice text={issued} />
    </section>
  );
}

export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function OperatorActions({ e, onChanged, onStale }: { e: Entitlement; onChanged: (what: string) => void; onStale: (err: unknown) => boolean }) {
  const catalog = useAsync(() => api.catalog(), []);
  const [sku, setSku] = useState('');
  const [reason, setReason] = useState('');
  const [confirmRevoke, setConfirmRevoke] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const plans = catalog.data?.products.find((p) => p.id === e.productId)?.plans.filter((p) => p.sku !== e.planSku) ?? [];
  const act = async (what: 'suspend' | 'reinstate' | 'revoke') => {
    setBusy(true);
    setError(null);
    try {
      await api[what](e.entitlementId, e.revision, reason.trim());
      setReason('');
      setConfirmRevoke(false);
      onChanged(what === 'suspend' ? 'Suspended.' : what === 'reinstate' ? 'Reinstated.' : 'Revoked. Revocation is final.');
    } catch (err) {
      if (!onStale(err)) setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="actions-h">
      <h2 id="actions-h">Operator actions</h2>
      <p className="muted">Each action is guarded by the revision shown (If-Match: {e.revision}); if someone else changed it first, you are told, and the page shows the state as it is now.</p>
      {e.status !== 'revoked' && (
        <div className="actions">
          <ActionForm label="Change plan" busyLabel="Changing…" submit={() => api.changePlan(e.entitlementId, e.revision, { sku })} onDone={(r) => onChanged(`Plan changed (${r.events.join(', ') || 'no change'}).`)} onError={onStale}>
            <Field label="New plan">
              {(id) => (
                <select id={id} value={sku} required onChange={(ev) => setSku(ev.target.value)}>
                  <option value="">Choose a plan…</option>
                  {plans.map((p) => (
                    <option key={p.sku} value={p.sku}>
                      {p.name} ({p.sku}, tier {p.tier})
                    </option>
                  ))}
                </select>
              )}
            </Field>
          </ActionForm>
          <form
            className="action-group"
            aria-busy={busy}
            onSubmit={(ev) => {
              ev.preventDefault();
              const what = ((ev.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null)?.value as 'suspend' | 'reinstate' | 'revoke' | 'confirm-revoke';
              if (what === 'revoke') setConfirmRevoke(true);
              else void act(what === 'confirm-revoke' ? 'revoke' : what);
            }}
          >
            <Field label="Reason" hint="Recorded with the event: who, when and why.">
              {(id, hint) => <input id={id} aria-describedby={hint} value={reason} required maxLength={500} onChange={(ev) => setReason(ev.target.value)} />}
            </Field>
            <div className="buttons">
              {e.status === 'active' && (
                <button type="submit" value="suspend" disabled={busy}>
                  Suspend
                </button>
              )}
              {e.status === 'suspended' && (
                <button type="submit" value="reinstate" disabled={busy}>
                  Reinstate
                </button>
              )}
              {!confirmRevoke ? (
                <button type="submit" value="revoke" className="danger" disabled={busy}>
                  Revoke…
                </button>
              ) : (
                <>
                  <button type="submit" value="confirm-revoke" className="danger" disabled={busy}>
                    Revoke for good
                  </button>
                  <button type="button" className="link" onClick={() => setConfirmRevoke(false)}>
                    Keep it
                  </button>
                </>
              )}
            </div>
            {confirmRevoke && (
              <p className="prompt over" role="alert">
                Revocation is final: the entitlement can never be reinstated.
              </p>
            )}
            <ErrorBox error={error} />
          </form>
        </div>
      )}
    </section>
  );
}

/** The entitlement as it was at a past moment (bitemporal: as the ledger knows it now). */
function AsOf({ id }: { id: string }) {
  const [at, setAt] = useState('');
  const [shown, setShown] = useState<string | null>(null);
  const past = useAsync(() => (shown ? api.entitlement(id, shown) : Promise.resolve(null)), [id, shown]);
  return (
    <section aria-labelledby="asof-h">
      <h2 id="asof-h">As of a past moment</h2>
      <form
        className="action"
        onSubmit={(ev) => {
          ev.preventDefault();
          setShown(fromLocalInput(at));
        }}
      >
        <Field label={`Moment (${ZONE})`}>{(fid) => <input id={fid} type="datetime-local" required value={at} max={toLocalInput(new Date().toISOString())} onChange={(ev) => setAt(ev.target.value)} />}</Field>
        <button type="submit">Show state</button>
      </form>
      {shown && (
        <AsyncView state={past} what="the past state">
          {(p) =>
            p ? (
              <div className="asof" data-testid="asof-state">
                <p>
                  At <Time value={shown} />:
                </p>
                <Terms e={p as Entitlement} past />
              </div>
            ) : null
          }
        </AsyncView>
      )}
    </section>
  );
}
