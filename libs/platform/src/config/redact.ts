/** Query parameters that carry credentials in connection strings (libpq's `password`, `sslpassword`, tokens). */
const SECRET_PARAMS = /([?&](?:password|sslpassword|pass|pwd|secret|token|access_token|api_key|apikey)=)[^&#\s"']*/gi;
/** `scheme://user:password@` — the password part of every URL in a text. */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@:"']*):([^\s/?#]*)@/gi;
/** An API key anywhere (a URL someone put it in, a pasted command): its secret part. */
const API_KEYS = /\b(elk_[0-9a-f]{16}_)[A-Za-z0-9_-]{43}\b/g;

/**
 * Text with the credentials of every URL or connection string in it replaced
 * by `***` (`postgres://ledger:***@db:5432/ledger`, `esdb://admin:***@a:2113,b:2113?tls=true`,
 * `…?password=***`). User names and hosts stay: they are what an operator needs to see.
 * For URLs in boot lines, health reports and error messages.
 */
export function redactCredentials(text: string): string {
  return text
    .replace(USERINFO, (_all, scheme: string, user: string) => `${scheme}${user}:***@`)
    .replace(SECRET_PARAMS, '$1***')
    .replace(API_KEYS, '$1***');
}
