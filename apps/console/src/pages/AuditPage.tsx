import { useEffect, useState } from 'react';
import { api } from '../api/api';
import { call, client } from '../api/client';
import type { DecisionRecordV1, ReplayAnswer } from '../api/server-types';
import { can, useMe } from '../App';
import { ActionForm, AsyncView, Empty, ErrorBox, Field, Notice, Table, useAsync, usePager } from '../components';
import { num, Time } from '../format';
import { verifyTreeHead } from '../treehead';
import { download } from './EntitlementPage';

/** For auditors: the newest signed tree head, whether the store verifies, exports, decision replay. */
export function AuditPage() {
  const me = useMe();
  return (
    <section>
      <h1>Audit</h1>
      <p className="muted">Every stored event is a leaf of an RFC 6962 Merkle tree whose heads are signed with Ed25519; anyone can check an export with the published keys alone.</p>
      {can(me, 'audit:read') && <TreeHead />}
      {can(me, 'audit:read') && <Verification />}
      {can(me, 'audit:export') && <Export />}
      {can(me, 'audit:read') && <Replay />}
    </section>
  );
}

function TreeHead() {
  const head = useAsync(async () => {
    const [h, jwks] = await Promise.all([api.latestTreeHead(), call<{ keys?: Record<string, unknown>[] }>(client.GET('/.well-known/jwks.json'))]);
    return { h, check: await verifyTreeHead(h, jwks) };
  }, []);
  return (
    <section aria-labelledby="sth-h">
      <h2 id="sth-h">Latest signed tree head</h2>
      <AsyncView state={head} what="the tree head">
        {({ h, check }) => (
          <>
            <p className={check.ok ? 'ok' : 'bad'} role="status">
              {check.ok ? `✔ Signature verified in this browser with key ${check.kid}.` : `✘ The signature does not verify: ${check.reason}.`}
            </p>
            <dl className="terms">
              <div>
                <dt>Tree size</dt>
                <dd>{num(h.treeSize)} events</dd>
              </div>
              <div>
                <dt>Last position</dt>
                <dd>{num(h.lastPosition)}</dd>
              </div>
              <div>
                <dt>Signed</dt>
                <dd>
                  <Time value={h.timestamp} />
                </dd>
              </div>
              <div>
                <dt>Key</dt>
                <dd>{h.kid}</dd>
              </div>
              <div className="wide">
                <dt>Root hash</dt>
                <dd>
                  <code className="hash">{h.rootHash}</code>
                </dd>
              </div>
            </dl>
            <button type="button" onClick={head.reload}>
              Refresh
            </button>
          </>
        )}
      </AsyncView>
    </section>
  );
}

function Verification() {
  const latest = useAsync(() => api.verification().catch((e: unknown) => ((e as { status?: number }).status === 404 ? null : Promise.reject(e))), []);
  const [error, setError] = useState<unknown>(null);
  const [starting, setStarting] = useState(false);
  const run = latest.data;
  useEffect(() => {
    if (run?.state !== 'running') return;
    const t = setTimeout(latest.reload, 1000);
    return () => clearTimeout(t);
  }, [run, latest.reload]);
  const start = () => {
    setStarting(true);
    setError(null);
    api.verify().then(
      () => latest.reload(),
      (e: unknown) => setError(e),
    ).finally(() => setStarting(false));
  };
  return (
    <section aria-labelledby="verify-h">
      <h2 id="verify-h">Does the store verify?</h2>
      <p className="muted">Compares every event of the event store with the audit log, checks each entry against its leaf and every signed head's root and signature.</p>
      <AsyncView state={latest} what="the last verification">
        {(r) =>
          !r ? (
            <Empty>No verification has run since the service started.</Empty>
          ) : (
            <div className={r.state === 'passed' ? 'ok' : r.state === 'running' ? '' : 'bad'}>
              {/* Progress is shown, not announced: the live region speaks only when the state changes. */}
              {r.state === 'running' && (
                <>
                  <p>
                    Verifying… {num(r.progress.done)} of {num(r.progress.total)} events
                  </p>
                  <progress max={Math.max(1, r.progress.total)} value={r.progress.done} aria-label="Verification progress" />
                </>
              )}
              <div role="status" aria-live="polite">
                {r.state === 'running' && <span className="visually-hidden">A verification is running.</span>}
                {r.state === 'passed' && r.report && (
                  <p>
                    ✔ The store verifies: {num(r.report.events)} events and {num(r.report.treeHeads)} signed heads checked
                    {r.report.notYetLogged ? ` (${num(r.report.notYetLogged)} newer events not logged yet)` : ''}; finished <Time value={r.finishedAt} />.
                  </p>
                )}
                {r.state === 'failed' && r.report && (
                  <>
                    <p>✘ The store does not verify: {num(r.report.findings.length)} finding(s).</p>
                    <ul>
                      {r.report.findings.slice(0, 20).map((f, i) => (
                        <li key={i}>
                          {f.store}, position {f.position ?? '—'}: {f.problem} — {f.detail}
                        </li>
                      ))}
                    </ul>
                  </>
                )}
                {r.state === 'error' && <p>✘ The verification could not run: {r.error}</p>}
              </div>
            </div>
          )
        }
      </AsyncView>
      <button type="button" disabled={starting || run?.state === 'running'} onClick={start}>
        {starting || run?.state === 'running' ? 'Verifying…' : 'Verify now'}
      </button>
      <ErrorBox error={error} />
    </section>
  );
}

function Export() {
  const me = useMe();
  const own = me.customers?.length === 1 ? me.customers[0]! : '';
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [customerId, setCustomerId] = useState(own);
  const [notice, setNotice] = useState<string | null>(null);
  return (
    <section aria-labelledby="export-h">
      <h2 id="export-h">Export</h2>
      <p className="muted">
        JSON lines with proofs; check it anywhere with <code>npm run audit -- verify &lt;file&gt; --jwks &lt;url&gt;</code>. Leave everything empty for the complete log.
      </p>
      <ActionForm
        label="Download export"
        busyLabel="Exporting…"
        submit={() => api.exportAudit({ ...(from ? { fromPosition: Number(from) } : {}), ...(to ? { toPosition: Number(to) } : {}), ...(customerId.trim() ? { customerId: customerId.trim() } : {}) })}
        onDone={(blob) => {
          const name = `audit-${customerId.trim() || 'all'}${from || to ? `-${from || 1}-${to || 'head'}` : ''}.jsonl`;
          download(blob, name);
          setNotice(`Saved ${name} (${num(blob.size)} bytes).`);
        }}
      >
        <Field label="From position">{(id) => <input id={id} type="number" min={1} value={from} onChange={(e) => setFrom(e.target.value)} />}</Field>
        <Field label="To position">{(id) => <input id={id} type="number" min={1} value={to} onChange={(e) => setTo(e.target.value)} />}</Field>
        <Field label="Customer">{(id) => <input id={id} value={customerId} readOnly={own !== ''} maxLength={128} onChange={(e) => setCustomerId(e.target.value)} />}</Field>
      </ActionForm>
      <Notice text={notice} />
    </section>
  );
}

const EXAMPLE = JSON.stringify({ customerId: 'acme', feature: 'render_minutes' }, null, 2);

function Replay() {
  const [request, setRequest] = useState(EXAMPLE);
  const [position, setPosition] = useState('');
  const [at, setAt] = useState(() => new Date().toISOString());
  const [answer, setAnswer] = useState<ReplayAnswer | null>(null);
  const [replayError, setReplayError] = useState<unknown>(null);
  const pager = usePager<number>();
  const decisions = useAsync(() => api.decisions(pager.cursor !== undefined ? { cursor: pager.cursor } : {}), [pager.cursor]);
  const parse = () => {
    try {
      return JSON.parse(request) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`The request is not JSON: ${(e as Error).message}`);
    }
  };
  const fill = (d: DecisionRecordV1) => {
    setRequest(JSON.stringify(d.request, null, 2));
    setPosition(String(d.position));
    setAt(new Date(d.atMs).toISOString());
  };
  return (
    <section aria-labelledby="replay-h">
      <h2 id="replay-h">Replay a decision</h2>
      <p className="muted">A check's request and the ledger position it was decided at give the same decision, always: recompute it from the history.</p>
      <ActionForm
        label="Replay"
        busyLabel="Replaying…"
        submit={() => api.replay({ request: parse() as never, position: Number(position), at })}
        onDone={(a) => {
          setReplayError(null);
          setAnswer(a);
        }}
        onError={() => setAnswer(null)}
      >
        <Field label="Check request (JSON)">{(id) => <textarea id={id} rows={5} value={request} onChange={(e) => setRequest(e.target.value)} spellCheck={false} className="mono" />}</Field>
        <Field label="Position">{(id) => <input id={id} type="number" min={0} required value={position} onChange={(e) => setPosition(e.target.value)} />}</Field>
        <Field label="Instant (ISO-8601, UTC)">{(id) => <input id={id} required value={at} onChange={(e) => setAt(e.target.value)} />}</Field>
      </ActionForm>
      <ErrorBox error={replayError} />
      {answer && (
        <div className="replay" role="status">
          <p>
            <strong>{answer.decision.allowed ? 'Allowed' : 'Denied'}</strong> — {answer.decision.code}
            {answer.matches === true && ' · matches what was answered'}
            {answer.matches === false && ` · differs from what was answered (${(answer.differences ?? []).join(', ')})`}
          </p>
          <pre className="mono small">{JSON.stringify(answer.decision, null, 2)}</pre>
        </div>
      )}
      <h3>Decision log</h3>
      <AsyncView state={decisions} what="the decision log">
        {(page) =>
          page.items.length === 0 ? (
            <Empty>No decision logged yet (every denial and a sample of allows are).</Empty>
          ) : (
            <>
              <Table label="Decision log" columns={['When', 'Customer', 'Feature', 'Decision', 'Position', 'Action']}>
                {page.items.map((d) => (
                  <tr key={d.id}>
                    <td>
                      <Time value={new Date(d.atMs).toISOString()} />
                    </td>
                    <td>{d.request.customerId}</td>
                    <td>{d.request.feature}</td>
                    <td>{d.decision.code}</td>
                    <td>{d.position}</td>
                    <td>
                      <button type="button" onClick={() => api.replay({ decisionId: d.id }).then(setAnswer, setReplayError)}>
                        Replay
                      </button>{' '}
                      <button type="button" className="link" onClick={() => fill(d)}>
                        Edit in the form
                      </button>
                    </td>
                  </tr>
                ))}
              </Table>
              {pager.controls(page.nextCursor, 'Decision')}
            </>
          )
        }
      </AsyncView>
    </section>
  );
}
