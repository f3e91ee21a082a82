/**
 * JSON Canonicalization Scheme (RFC 8785): the one serialisation of a JSON
 * value that hashes and signs the same everywhere. Object members sorted by
 * their names' UTF-16 code units (JavaScript's default string order), no
 * whitespace, strings escaped as ECMAScript's JSON.stringify does (only `"`,
 * `\`, and control characters), numbers in ECMAScript's shortest round-trip
 * form (JSON.stringify's). An outsider can reimplement it from RFC 8785 alone.
 *
 * Refused (TypeError), since RFC 8785 has no form for them: non-finite
 * numbers, lone surrogates in strings or names, and values JSON cannot hold
 * (undefined, functions, symbols, bigints). `undefined` object members are
 * left out, as JSON.stringify leaves them out.
 */
export function canonicalJson(value: unknown): string {
  return write(value, '$');
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function text(s: string, path: string): string {
  if (LONE_SURROGATE.test(s)) throw new TypeError(`${path}: a string with a lone surrogate has no canonical JSON form`);
  return JSON.stringify(s);
}

function write(v: unknown, path: string): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError(`${path}: ${v} has no JSON form`);
      // ECMAScript's Number::toString, which RFC 8785 adopts (and -0 is 0).
      return JSON.stringify(v);
    case 'string':
      return text(v, path);
    case 'object': {
      if (Array.isArray(v)) return `[${v.map((x, i) => write(x, `${path}[${i}]`)).join(',')}]`;
      const o = v as Record<string, unknown>;
      const names = Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort();
      return `{${names.map((k) => `${text(k, path)}:${write(o[k], `${path}.${k}`)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`${path}: a ${typeof v} has no JSON form`);
  }
}
