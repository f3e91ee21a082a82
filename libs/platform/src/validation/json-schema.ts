import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FieldError } from '../errors/coded-error';

/**
 * JSON Schema validation for everything that crosses a boundary as JSON (HTTP
 * bodies, Kafka messages): strict — unknown fields are errors, nothing is
 * coerced or defaulted — and every problem reported with its field path.
 */
const ajv = new Ajv({ allErrors: true, coerceTypes: false, removeAdditional: false, useDefaults: false, strict: false });
addFormats(ajv);

/**
 * True for a string holding a lone UTF-16 surrogate (U+D800–U+DFFF without its pair). JSON can
 * carry one (`"\ud800"`), but it is no Unicode text: it has no canonical JSON form (RFC 8785), so
 * an event storing one would stop the audit feed at that event for good.
 */
export function hasLoneSurrogate(s: string): boolean {
  return !(s as string & { isWellFormed(): boolean }).isWellFormed();
}

const WELL_FORMED = 'wellFormedUnicode';
ajv.addKeyword({ keyword: WELL_FORMED, type: 'string', schemaType: 'boolean', errors: false, validate: (on: boolean, data: string) => !on || !hasLoneSurrogate(data) });

/**
 * The schema with every free-text string (one without a pattern, enum or const, which already
 * confine it to well-formed text) required to be well-formed Unicode. Applied to every schema
 * compiled here, so no boundary can forget it.
 */
function withWellFormedText(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withWellFormedText);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = ['enum', 'const', 'default', 'example', 'examples'].includes(k) ? v : withWellFormedText(v);
  const type = (schema as { type?: unknown }).type;
  const text = type === 'string' || (Array.isArray(type) && type.includes('string'));
  if (text && !('pattern' in out) && !('enum' in out) && !('const' in out)) out[WELL_FORMED] = true;
  return out;
}

/** Returns the problems of a value (empty when it is valid). */
export type SchemaValidator = ((value: unknown) => FieldError[]) & {
  /** The same check without building the problem list: for hot paths. */
  readonly isValid: (value: unknown) => boolean;
};

const compiled = new WeakMap<object, ValidateFunction>();

export function compileSchema(schema: object): SchemaValidator {
  // One compilation per schema object, as Ajv itself keeps (a copy compiled twice would repeat its $id).
  let validate = compiled.get(schema);
  if (!validate) compiled.set(schema, (validate = ajv.compile(withWellFormedText(schema) as object)));
  const problems = (value: unknown): FieldError[] => (validate(value) ? [] : fieldErrorsOf(validate.errors ?? []));
  return Object.assign(problems, { isValid: (value: unknown) => validate(value) === true });
}

/** Ajv's errors as field errors with paths like `lines[0].quantity`. */
export function fieldErrorsOf(errors: readonly ErrorObject[]): FieldError[] {
  return errors.map((e) => {
    const base = e.instancePath
      .split('/')
      .slice(1)
      .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce((path, seg) => (/^\d+$/.test(seg) ? `${path}[${seg}]` : path ? `${path}.${seg}` : seg), '');
    const extra = e.keyword === 'required' ? (e.params as { missingProperty: string }).missingProperty : e.keyword === 'additionalProperties' ? (e.params as { additionalProperty: string }).additionalProperty : null;
    const path = extra ? (base ? `${base}.${extra}` : extra) : base || '(body)';
    const message =
      e.keyword === 'required'
        ? `${path} is required`
        : e.keyword === 'additionalProperties'
          ? `${path} is not a known field`
          : e.keyword === 'enum'
            ? `${path} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`
            : e.keyword === WELL_FORMED
              ? `${path} must be well-formed Unicode text: it holds a lone surrogate (\\ud800–\\udfff without its pair)`
              : `${path} ${e.message ?? 'is invalid'}`;
    return { path, message, constraint: e.keyword };
  });
}

/**
 * True when `value` nests objects or arrays deeper than `maxDepth`. Iterative
 * and stops at the first path that is too deep, so a body nested a million
 * levels costs no stack and little time.
 */
export function nestedDeeperThan(value: unknown, maxDepth: number): boolean {
  if (!jsonShaped(value)) return false;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (depth > maxDepth) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v as object)) {
      if (jsonShaped(child)) stack.push([child, depth + 1]);
    }
  }
  return false;
}

/**
 * An array or a plain object: what parsed JSON is made of. Anything else (a message's Buffer, whose
 * bytes would be walked one by one; a message object the process made itself) is not input to walk.
 */
function jsonShaped(value: unknown): value is object {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
