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
    // Fast path: a copy with every object's members inserted in sorted order, serialised by JSON.stringify
    // (whose strings and numbers are RFC 8785's). Objects with array-index names cannot keep an inserted
    // order in JavaScript (such names always come first, in numeric order): those take the slow path.
    const sorted = sortedCopy(value);
    return sorted === UNSORTABLE ? write(value) : JSON.stringify(sorted);
  } catch (err) {
    if (err instanceof Unrepresentable) throw new TypeError(`$${err.path.reverse().join('')}: ${err.message}`);
    throw err;
  }
}

/** Thrown inside `write` with the path filled in on the way out (built only when something is refused). */
class Unrepresentable extends Error {
  readonly path: string[] = [];
}

const UNSORTABLE = Symbol('unsortable');
const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;

/** The value with its objects' members in sorted order, checked as `write` checks it; UNSORTABLE when an object has an array-index name. */
function sortedCopy(v: unknown): unknown {
  if (v === null) return v;
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'number':
      if (!Number.isFinite(v)) throw new Unrepresentable(`${v} has no JSON form`);
      return v;
    case 'string':
      if (!wellFormed(v)) throw new Unrepresentable('a string with a lone surrogate has no canonical JSON form');
      return v;
    case 'object': {
      if (Array.isArray(v)) {
        const out = new Array<unknown>(v.length);
        for (let i = 0; i < v.length; i++) {
          try {
            const x = sortedCopy(v[i]);
            if (x === UNSORTABLE) return UNSORTABLE;
            out[i] = x;
          } catch (err) {
            if (err instanceof Unrepresentable) err.path.push(`[${i}]`);
            throw err;
          }
        }
        return out;
      }
      const o = v as Record<string, unknown>;
      // No prototype: a member named __proto__ stays a member.
      const out = Object.create(null) as Record<string, unknown>;
      for (const k of Object.keys(o).sort()) {
        const x = o[k];
        if (x === undefined) continue;
        if (ARRAY_INDEX.test(k)) return UNSORTABLE;
        try {
          if (!wellFormed(k)) throw new Unrepresentable('a string with a lone surrogate has no canonical JSON form');
          const y = sortedCopy(x);
          if (y === UNSORTABLE) return UNSORTABLE;
          out[k] = y;
        } catch (err) {
          if (err instanceof Unrepresentable) err.path.push(`.${k}`);
          throw err;
        }
      }
      return out;
    }
    default:
      throw new Unrepresentable(`a ${typeof v} has no JSON form`);
  }
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
