import { useState, type ReactNode } from 'react';
import { api } from '../api/api';
import type { AccessRequestItem } from '../api/server-types';
import { useMe } from '../App';
import { ActionForm, Field } from '../components';
import { Link, seg } from '../router';
import { RequestList } from './RequestsPage';

/** The approval queue: approve or reject with a reason; one's own request is for another approver. */
export function ApprovalsPage() {
  return (
    <section>
      <h1>Approval queue</h1>
      <p className="muted">Oldest first. Approving grants the plan or attaches the add-on at once; the request and the decision stay in the ledger.</p>
      <RequestList actions={(r, done) => <Decide r={r} done={done} />} />
    </section>
  );
}

function Decide({ r, done }: { r: AccessRequestItem; done: (what: ReactNode) => void }) {
  const me = useMe();
  const [note, setNote] = useState('');
  if (r.requestedBy === me.id) return <p className="small muted">Your own request: another approver decides it.</p>;
  return (
    <div className="decide">
      <Field label={`Comment or reason for ${r.requestId.slice(0, 8)}`}>{(id) => <input id={id} value={note} maxLength={500} onChange={(e) => setNote(e.target.value)} />}</Field>
      <div className="buttons">
        <ActionForm
          className="inline"
          label="Approve"
          buttonLabel={`Approve ${r.sku} for ${r.customerId}`}
          busyLabel="Approving…"
          submit={() => api.approve(r.requestId, note.trim() || undefined)}
          onDone={(a) =>
            done(
              <>
                Approved {r.sku} for {r.customerId}.{' '}
                {a.entitlementId && <Link to={`/entitlements/${seg(a.entitlementId)}`}>Open the entitlement</Link>}
              </>,
            )
          }
        />
        <ActionForm
          className="inline danger"
          label="Reject"
          buttonLabel={`Reject ${r.sku} for ${r.customerId}`}
          busyLabel="Rejecting…"
          submit={() => api.reject(r.requestId, note.trim())}
          onDone={() => done(`Rejected ${r.sku} for ${r.customerId}.`)}
        />
      </div>
      <Link to={`/customers/${seg(r.customerId)}`} className="small">
        {r.customerId}'s page
      </Link>
    </div>
  );
}
