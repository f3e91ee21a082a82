import { useState, type FormEvent } from 'react';
import { api, type Me } from '../api/api';
import { session } from '../api/session';
import { ErrorBox, Field, useAsync } from '../components';
import { beginSignIn, consoleConfig } from '../oidc';
import { useLocation } from '../router';

/**
 * Sign in with an API key (`elk_…`) or an access token from your identity
 * provider. It is kept in this tab only and sent in the Authorization header.
 */
export function LoginPage({ onSignedIn, reason, error: given }: { onSignedIn: (me: Me) => void; reason: string | null; error: unknown }) {
  const [credential, setCredential] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(given);
  const config = useAsync(() => consoleConfig(), []);
  const loc = useLocation();
  const oidc = config.data?.oidc ?? null;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const me = await api.me(credential.trim());
      session.signIn(credential);
      onSignedIn(me);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" className="login">
      <h1>Entitlement Ledger</h1>
      <p>Sign in to see and manage entitlements, seats, usage, approvals and the audit trail.</p>
      {reason && (
        <p className="notice" role="status">
          You were signed out: {reason}
        </p>
      )}
      {oidc && (
        <div className="sso">
          <button
            type="button"
            onClick={() => {
              setError(null);
              beginSignIn(oidc, loc.path === '/login' ? '/' : loc.path + (loc.query.size ? `?${loc.query}` : '')).catch(setError);
            }}
          >
            Sign in with your identity provider
          </button>
          <p className="muted small">Operators and auditors: your company login ({new URL(oidc.issuer).host}).</p>
          <p className="or">or</p>
        </div>
      )}
      <form onSubmit={submit} aria-busy={busy}>
        <Field label="API key or access token" hint="An API key (elk_…) from your administrator, or an operator's access token from your identity provider. It stays in this browser tab.">
          {(id, hint) => <input id={id} aria-describedby={hint} type="password" autoComplete="off" required value={credential} onChange={(e) => setCredential(e.target.value)} />}
        </Field>
        <button type="submit" disabled={busy || credential.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <ErrorBox error={error} title="Sign-in failed" />
    </main>
  );
}
