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
  try {
    return write(value);
  } catch (err) {
    if (err instanceof Unrepresentable) throw new TypeError(`$${err.path.reverse().join('')}: ${err.message}`);
    throw err;
  }
}

/** Thrown inside `write` with the path filled in on the way out (built only when something is refused). */
class Unrepresentable extends Error {
  readonly path: string[] = [];
}

const wellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();

function text(s: string): string {
  if (!wellFormed(s)) throw new Unrepresentable('a string with a lone surrogate has no canonical JSON form');
  return JSON.stringify(s);
}

function write(v: unknown): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) throw new Unrepresentable(`${v} has no JSON form`);
      // ECMAScript's Number::toString, which RFC 8785 adopts (and -0 is 0).
      return JSON.stringify(v);
    case 'string':
      return text(v);
    case 'object': {
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++) {
          try {
            out += (i === 0 ? '' : ',') + write(v[i]);
          } catch (err) {
            if (err instanceof Unrepresentable) err.path.push(`[${i}]`);
            throw err;
          }
        }
        return `${out}]`;
      }
      const o = v as Record<string, unknown>;
      // JavaScript's default sort compares UTF-16 code units, as RFC 8785 orders names.
      const names = Object.keys(o).sort();
      let out = '{';
      let first = true;
      for (const k of names) {
        const x = o[k];
        if (x === undefined) continue;
        try {
          out += `${first ? '' : ','}${text(k)}:${write(x)}`;
        } catch (err) {
          if (err instanceof Unrepresentable) err.path.push(`.${k}`);
          throw err;
        }
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw new Unrepresentable(`a ${typeof v} has no JSON form`);
  }
}
