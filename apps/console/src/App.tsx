import { Component, createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { api, type Me } from './api/api';
import { session } from './api/session';
import { recordWritesAs } from './api/client';
import { ErrorBox, Loading } from './components';
import { Link, match, navigate, useLocation } from './router';
import { LoginPage } from './pages/LoginPage';
import { EntitlementsPage } from './pages/EntitlementsPage';
import { EntitlementPage } from './pages/EntitlementPage';
import { UsagePage } from './pages/UsagePage';
import { RequestsPage } from './pages/RequestsPage';
import { ApprovalsPage } from './pages/ApprovalsPage';
import { CustomersPage } from './pages/CustomersPage';
import { CustomerPage } from './pages/CustomerPage';
import { AuditPage } from './pages/AuditPage';
import { completeSignIn, consoleConfig, isReturning } from './oidc';

const MeContext = createContext<Me | null>(null);

/** The signed-in principal (role, customers, permissions), as /v1/me says. */
export function useMe(): Me {
  const me = useContext(MeContext);
  if (!me) throw new Error('useMe outside a session');
  return me;
}

export const can = (me: Me, permission: string) => me.permissions.includes(permission as never);
/** A customer role's (or a limited service's) one customer; null for roles that see every customer. */
export const ownCustomer = (me: Me) => (me.customers && me.customers.length === 1 ? me.customers[0]! : null);

export function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(() => session.credential() !== null && !isReturning());
  const [signedOut, setSignedOut] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const loc = useLocation();

  useEffect(
    () =>
      session.onChange((reason) => {
        setMe(null);
        setSignedOut(reason);
      }),
    [],
  );
  // Back from the identity provider: trade the code for a token, then carry on as signed in.
  const [returning, setReturning] = useState(isReturning);
  useEffect(() => {
    if (!returning) return;
    consoleConfig()
      .then(({ oidc }) => {
        if (!oidc) throw new Error('this installation has no identity provider for the console');
        return completeSignIn(oidc);
      })
      .then(
        ({ accessToken, returnTo }) => {
          session.signIn(accessToken);
          navigate(returnTo, true);
        },
        (err: unknown) => setError(err),
      )
      .finally(() => setReturning(false));
  }, [returning]);
  useEffect(() => {
    if (returning || !session.credential() || me) return;
    setChecking(true);
    api.me().then(
      (m) => {
        setMe(m);
        setChecking(false);
      },
      (err: unknown) => {
        setError(err);
        setChecking(false);
      },
    );
  }, [me, signedOut, returning]);

  recordWritesAs(me && me.role !== 'erp' ? 'portal' : null);
  if (checking || returning) return <Loading what="your session" />;
  if (!me)
    return (
      <LoginPage
        reason={signedOut}
        error={error}
        onSignedIn={(m) => {
          setError(null);
          setSignedOut(null);
          setMe(m);
          if (loc.path === '/login') navigate('/', true);
        }}
      />
    );
  return (
    <MeContext.Provider value={me}>
      <Shell me={me} />
    </MeContext.Provider>
  );
}

function navFor(me: Me): { to: string; label: string }[] {
  const items: { to: string; label: string }[] = [];
  const own = ownCustomer(me);
  if (own && can(me, 'entitlements:read')) items.push({ to: '/', label: 'Entitlements' });
  if (own && can(me, 'usage:read')) items.push({ to: '/usage', label: 'Usage' });
  if (own && can(me, 'access-requests:create')) items.push({ to: '/requests', label: 'Requests' });
  if (!own && can(me, 'entitlements:read')) items.push({ to: '/customers', label: 'Customers' });
  if (can(me, 'access-requests:decide')) items.push({ to: '/approvals', label: 'Approvals' });
  if (can(me, 'audit:read')) items.push({ to: '/audit', label: 'Audit' });
  return items;
}

function Shell({ me }: { me: Me }) {
  const loc = useLocation();
  const items = navFor(me);
  const active = (to: string) => (to === '/' ? loc.path === '/' || loc.path.startsWith('/entitlements') : loc.path.startsWith(to));
  // A new page: its heading is the document's title, and focus moves to the content (screen readers announce it).
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {
    const h1 = main.current?.querySelector('h1')?.textContent;
    document.title = h1 ? `${h1} · Entitlement Ledger` : 'Entitlement Ledger';
    if (first.current) first.current = false;
    else main.current?.focus();
  }, [loc.path, loc.query]);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand">
          Entitlement Ledger
        </Link>
        <nav aria-label="Main">
          <ul>
            {items.map((i) => (
              <li key={i.to}>
                <Link to={i.to} aria-current={active(i.to) ? 'page' : undefined}>
                  {i.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span title={me.id}>
            {me.name} · <span className="role">{me.role}</span>
            {ownCustomer(me) ? ` · ${ownCustomer(me)}` : ''}
          </span>
          <button type="button" className="link" onClick={() => session.signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1} ref={main}>
        <ErrorBoundary key={loc.path}>
          <Routes me={me} />
        </ErrorBoundary>
      </main>
    </>
  );
}

function Routes({ me }: { me: Me }) {
  const { path, query } = useLocation();
  const own = ownCustomer(me);
  let m: Record<string, string> | null;
  if (path === '/' || path === '/login') {
    if (own) return <EntitlementsPage customerId={own} />;
    if (can(me, 'entitlements:read') && me.role !== 'auditor') return <CustomersPage />;
    if (can(me, 'audit:read')) return <AuditPage />;
    return <NotFound text={`The console has nothing for the ${me.role} role yet.`} />;
  }
  if ((m = match('/entitlements/:id', path))) return <EntitlementPage key={m['id']} id={m['id']!} />;
  if (path === '/usage' && own) return <UsagePage customerId={own} />;
  if (path === '/requests' && own) return <RequestsPage customerId={own} />;
  if (path === '/approvals') return <ApprovalsPage />;
  if (path === '/customers') return <CustomersPage key={query.get('search') ?? ''} />;
  if ((m = match('/customers/:customerId', path))) {
    // A customer's own people see their own customer only (the API would answer nothing else anyway).
    if (me.customers && !me.customers.includes(m['customerId']!)) return <NotFound text={`There is no customer ${m['customerId']} that you can see.`} />;
    return own ? <EntitlementsPage customerId={own} /> : <CustomerPage key={m['customerId']} customerId={m['customerId']!} />;
  }
  if (path === '/audit') return <AuditPage />;
  return <NotFound text="There is no such page." />;
}

export function NotFound({ text }: { text: string }) {
  return (
    <section>
      <h1>Not found</h1>
      <p>{text}</p>
      <p>
        <Link to="/">Back to the start</Link>
      </p>
    </section>
  );
}


/** A page that fails to render says so (and the rest of the console keeps working). */
class ErrorBoundary extends Component<{ children: ReactNode }, { error: unknown }> {
  override state: { error: unknown } = { error: null };
  static getDerivedStateFromError(error: unknown) {
    return { error };
  }
  override render() {
    if (this.state.error)
      return (
        <section>
          <h1>This page could not be shown</h1>
          <ErrorBox error={this.state.error} title="The console failed to show this page" />
          <p>
            <Link to="/">Back to the start</Link>
          </p>
        </section>
      );
    return this.props.children;
  }
}
