import { useCallback, useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { ApiError } from './api/client';

export interface Async<T> {
  readonly data: T | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  reload(): void;
}

/** Runs `load` when its dependencies change (and on reload()); the newest answer wins. */
export function useAsync<T>(load: () => Promise<T>, deps: readonly unknown[]): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => mine === seq.current && setState({ data, loading: false }),
      (error: unknown) => mine === seq.current && setState({ error, loading: false }),
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

/** An API error said plainly: what happened, its code, and each bad field. */
export function ErrorBox({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const e = error instanceof ApiError ? error : null;
  return (
    <div className="error" role="alert">
      <strong>{title ?? (e ? headline(e) : 'Something went wrong')}</strong>
      <p>{e ? e.message : String((error as Error)?.message ?? error)}</p>
      {e && e.fields.length > 0 && (
        <ul>
          {e.fields.map((f) => (
            <li key={f.path}>
              <code>{f.path}</code>: {f.message}
            </li>
          ))}
        </ul>
      )}
      {e && <p className="code">{e.code}</p>}
    </div>
  );
}

function headline(e: ApiError): string {
  if (e.status === 412 || e.code === 'CONCURRENCY.STALE_REVISION') return 'Someone changed this in the meantime';
  if (e.status === 409) return 'That conflicts with the current state';
  if (e.status === 403) return 'You are not allowed to do that';
  if (e.status === 404) return 'Not found';
  if (e.status === 400) return 'Please check the form';
  if (e.status === 429) return 'Too many requests; try again in a moment';
  if (e.status === 503) return 'The service is catching up; try again in a moment';
  if (e.status === 0) return 'The server could not be reached';
  return 'The request failed';
}

/** Shows a loading line, an error with a retry, or the data. */
export function AsyncView<T>({ state, what, children }: { state: Async<T>; what: string; children: (data: T) => ReactNode }) {
  if (state.error && !state.loading)
    return (
      <div>
        <ErrorBox error={state.error} />
        <button type="button" onClick={state.reload}>
          Try again
        </button>
      </div>
    );
  if (state.data === undefined) return <Loading what={what} />;
  return <>{children(state.data)}</>;
}

/** Cursor pagination: Previous / Next over a stack of cursors, back to the first page when `inputs` (the filter) change. */
export function usePager<C>(inputs: readonly unknown[] = []) {
  const [stack, setStack] = useState<(C | undefined)[]>([undefined]);
  const key = JSON.stringify(inputs);
  const [seen, setSeen] = useState(key);
  if (seen !== key) {
    setSeen(key);
    setStack([undefined]);
  }
  const cursor = stack[stack.length - 1];
  return {
    cursor,
    page: stack.length,
    controls: (next: C | null | undefined, label: string) => (
      <nav className="pager" aria-label={`${label} pages`}>
        <button type="button" disabled={stack.length === 1} onClick={() => setStack((s) => s.slice(0, -1))}>
          ← Previous
        </button>
        <span aria-live="polite">Page {stack.length}</span>
        <button type="button" disabled={next === null || next === undefined} onClick={() => next !== null && next !== undefined && setStack((s) => [...s, next])}>
          Next →
        </button>
      </nav>
    ),
  };
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{status}</span>;
}

/** A labelled form field. */
export function Field({ label, hint, children }: { label: string; hint?: string; children: (id: string, describedBy: string | undefined) => ReactNode }) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(id, hintId)}
      {hint && (
        <small id={hintId} className="muted">
          {hint}
        </small>
      )}
    </div>
  );
}

/**
 * A form that calls the API: disabled while it runs, the API's error shown
 * plainly beside it, `done` told of the answer.
 */
export function ActionForm<T>({ label, submit, onDone, onError, children, className, busyLabel, buttonLabel }: { label: string; submit: () => Promise<T>; onDone?: (answer: T) => void; /** Told of a failure first; answering true means it is shown elsewhere (not beside this form). */
  onError?: (error: unknown) => boolean | void; children?: ReactNode; className?: string; busyLabel?: string; buttonLabel?: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await submit();
      onDone?.(answer);
    } catch (err) {
      if (onError?.(err) !== true) setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className={`action ${className ?? ''}`} onSubmit={onSubmit} aria-busy={busy}>
      {children}
      <button type="submit" disabled={busy} aria-label={buttonLabel}>
        {busy ? (busyLabel ?? 'Working…') : label}
      </button>
      <ErrorBox error={error} />
    </form>
  );
}

/**
 * A table with its column headings (a `false` column is left out), that
 * scrolls sideways on a narrow screen (focusable, so the keyboard can scroll
 * it too). The children are its rows.
 */
export function Table({ label, columns, children }: { label: string; columns: readonly (string | false)[]; children: ReactNode }) {
  return (
    <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      <table>
        <thead>
          <tr>
            {columns.filter((c): c is string => c !== false).map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** A short-lived confirmation line for screen readers and eyes. */
export function Notice({ text }: { text: ReactNode }) {
  const ref = useRef<HTMLParagraphElement>(null);
  // What was just done is where focus goes (the button that did it may be gone).
  useEffect(() => {
    if (text) ref.current?.focus();
  }, [text]);
  return (
    <p className="notice" role="status" aria-live="polite" tabIndex={-1} ref={ref}>
      {text}
    </p>
  );
}

/** Whether an error is a write refused because the viewer saw an older revision. */
export const isStale = (e: unknown) => e instanceof ApiError && (e.code === 'CONCURRENCY.STALE_REVISION' || e.status === 412);
