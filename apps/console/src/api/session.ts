/**
 * The viewer's credential (an API key, or an identity provider's access
 * token) lives in this tab's sessionStorage only: never in a URL, never in
 * localStorage, gone when the tab closes or the viewer signs out.
 */
const KEY = 'el.console.credential';
const listeners = new Set<(reason: string | null) => void>();

export const session = {
  credential(): string | null {
    return sessionStorage.getItem(KEY);
  },
  signIn(credential: string): void {
    sessionStorage.setItem(KEY, credential.trim());
  },
  signOut(reason: string | null = null): void {
    sessionStorage.removeItem(KEY);
    for (const l of listeners) l(reason);
  },
  /** The server refused the credential (revoked, expired). */
  expired(reason: string): void {
    if (sessionStorage.getItem(KEY)) session.signOut(reason);
  },
  onChange(listener: (reason: string | null) => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
