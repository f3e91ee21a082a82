import fc from 'fast-check';

/**
 * Hostile JSON derived from a JSON Schema (an HTTP route's request schema from
 * the OpenAPI document, a Kafka message's contract schema): for every node of
 * the schema, values that break it (wrong type, null, too long, off-pattern
 * unicode, a lone surrogate, out of range, not in the enum, an array for an
 * object, too many items, a missing required field, an unknown or
 * prototype-named key, nesting thousands deep), each placed in an otherwise
 * well-formed document so that the answer can be held to naming the broken
 * field. Used by the hostile-bodies fuzz test (apps/embedded) and the hostile
 * Kafka message tests (erp.orders.v1, metering.usage.v1).
 */

export type Schema = {
  readonly $ref?: string;
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | Schema;
  readonly items?: Schema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly pattern?: string;
  readonly format?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: boolean | number;
  readonly nullable?: boolean;
  readonly oneOf?: readonly Schema[];
  readonly anyOf?: readonly Schema[];
  readonly not?: Schema;
  readonly example?: unknown;
};

export type Path = readonly (string | number)[];

/** `lines[0].quantity`: how the servers name a field in their errors. */
export function formatPath(path: Path): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

export interface SchemaDocument {
  readonly components?: { readonly schemas?: Readonly<Record<string, Schema>> };
}

/** Follows `$ref`s; a named DTO (a NestJS class) refuses unknown keys though its schema does not say so. */
export function resolve(doc: SchemaDocument, schema: Schema): Schema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.split('/').pop()!;
  const target = doc.components?.schemas?.[name];
  if (!target) throw new Error(`unresolved ${schema.$ref}`);
  return { additionalProperties: false, ...resolveAll(doc, target) };
}

function resolveAll(doc: SchemaDocument, s: Schema): Schema {
  const r = s.$ref ? resolve(doc, s) : s;
  return {
    ...r,
    ...(r.properties ? { properties: Object.fromEntries(Object.entries(r.properties).map(([k, v]) => [k, resolveAll(doc, v)])) } : {}),
    ...(r.items ? { items: resolveAll(doc, r.items) } : {}),
    ...(r.oneOf ? { oneOf: r.oneOf.map((o) => resolveAll(doc, o)) } : {}),
  };
}

const types = (s: Schema): readonly string[] | null => (s.type === undefined ? null : typeof s.type === 'string' ? [s.type] : s.type);
const isType = (s: Schema, t: string) => types(s)?.includes(t) ?? false;

/** A value the schema accepts, with the required fields only (a oneOf: its first branch). */
export function sample(s: Schema): unknown {
  if (s.oneOf && !s.properties) return sample(s.oneOf[0]!);
  if (s.const !== undefined) return s.const;
  if (s.enum) return s.enum.find((v) => v !== null);
  if (isType(s, 'object') || s.properties) {
    // A oneOf of required lists (one of two fields): the first.
    const required = [...(s.required ?? []), ...(s.oneOf?.[0]?.required ?? [])];
    return Object.fromEntries(required.map((k) => [k, sample(s.properties?.[k] ?? {})]));
  }
  if (isType(s, 'array')) return Array.from({ length: Math.max(1, s.minItems ?? 0) }, () => sample(s.items ?? {}));
  if (isType(s, 'integer') || isType(s, 'number')) {
    const min = s.minimum ?? 1;
    return s.exclusiveMinimum === true ? min + 1 : Math.max(min, 1);
  }
  if (isType(s, 'boolean')) return true;
  if (isType(s, 'string')) {
    if (s.format === 'date-time') return '2026-12-01T00:00:00Z';
    if (typeof s.example === 'string' && (!s.pattern || new RegExp(s.pattern).test(s.example))) return s.example;
    return s.pattern ? 'a1' : 'x'.repeat(Math.max(1, s.minLength ?? 1));
  }
  return {};
}

/** Every node of a schema under a body, with its path: properties (required or not) and the first item of arrays. */
export function nodes(s: Schema, path: Path = [], depth = 0): { path: Path; schema: Schema }[] {
  const out: { path: Path; schema: Schema }[] = path.length === 0 ? [{ path, schema: s }] : [];
  if (depth > 5) return out;
  const branch = s.oneOf && !s.properties ? s.oneOf[0]! : s;
  for (const [k, v] of Object.entries(branch.properties ?? {})) {
    out.push({ path: [...path, k], schema: v });
    out.push(...nodes(v, [...path, k], depth + 1));
  }
  if (branch.items) {
    out.push({ path: [...path, 0], schema: branch.items });
    out.push(...nodes(branch.items, [...path, 0], depth + 1));
  }
  return out;
}

/** The body with `value` at `path`, building what lies on the way from the schema (an optional object or list). */
export function withValueAt(body: unknown, path: Path, value: unknown, root: Schema): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const branch = root.oneOf && !root.properties ? root.oneOf[0]! : root;
  const child = typeof head === 'number' ? branch.items ?? {} : branch.properties?.[head!] ?? {};
  if (Array.isArray(body)) {
    const copy = [...body];
    copy[head as number] = withValueAt(copy[head as number] ?? sample(child), rest, value, child);
    return copy;
  }
  const obj = (body ?? {}) as Record<string, unknown>;
  return { ...obj, [head!]: withValueAt(obj[head as string] ?? sample(child), rest, value, child) };
}

export function getAt(body: unknown, path: Path): unknown {
  let v: unknown = body;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined;
  return v;
}

export function withoutKey(body: unknown, path: Path, root: Schema): unknown {
  const parentPath = path.slice(0, -1);
  const key = path[path.length - 1] as string;
  const strip = (v: unknown): unknown => {
    const { [key]: _gone, ...rest } = v as Record<string, unknown>;
    return rest;
  };
  if (parentPath.length === 0) return strip(body);
  return withValueAt(body, parentPath, strip(getAt(body, parentPath) ?? {}), root);
}

/**
 * JSON text put into a body as it is: numbers JSON.stringify cannot write (1e400 parses as
 * Infinity) and nesting thousands deep (which fast-check and JSON.stringify would have to recurse
 * through). `serialize` writes it in place.
 */
const RAW_TEXTS: string[] = [];
export class RawJson {
  private readonly id: number;
  constructor(readonly text: string) {
    this.id = RAW_TEXTS.push(text) - 1;
  }
  toJSON(): string {
    return `@@raw:${this.id}@@`;
  }
  [fc.toStringMethod](): string {
    return this.text.length > 40 ? `${this.text.slice(0, 20)}…(${this.text.length} characters)` : this.text;
  }
}

export function serialize(body: unknown): string {
  return JSON.stringify(body).replace(/"@@raw:(\d+)@@"/g, (_m, id: string) => RAW_TEXTS[Number(id)]!);
}

/** How the answer must name the broken field. */
export type Naming =
  /** A path in `errors` equal to the broken field, inside it, or (for a list item) the list itself. */
  | 'field'
  /** Refused as a whole: a body nested deeper than the limit, or a key JSON parsing refuses. */
  | 'body';

export interface Mutation {
  readonly kind: string;
  readonly path: Path;
  readonly body: unknown;
  readonly naming: Naming;
}

/** A counterexample as fast-check prints it: long strings and deep nesting shortened. */
export function describeBody(body: unknown): string {
  return serialize(body)
    .replace(/([^"\\]{40})[^"\\]{60,}/g, (_m, head: string) => `${head}…`)
    .replace(/(\{"a":){20,}/g, '{"a":…')
    .replace(/\}{20,}/g, '…}');
}

function described(m: Mutation): Mutation {
  return Object.assign(m, { [fc.toStringMethod]: () => `${m.kind} at ${formatPath(m.path) || '(root)'}: ${describeBody(m.body).slice(0, 400)}` });
}

const NOT_MATCHING = ['', ' ', 'a b', '∀ℕ🙂', '-x', '../../etc/passwd', 'a\u0000b', '\u202eabc', 'x'.repeat(129), 'é', 'ab\nc', '<script>'];
const NOT_INSTANTS = ['yesterday', '2026-13-40T00:00:00Z', '2026-12-01', '2026-12-01T00:00:00', '', '2026-12-01T00:00:00Z'.repeat(3)];
const EXTRA_KEYS = ['extra', 'isAdmin', 'ünïcödé', '𝔘', 'a.b', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];

/** An object nested `depth` levels deep, as text. */
const nested = (depth: number) => new RawJson(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);

/** Values that break `s`, each with its kind. Empty when nothing can be said of a node (a free-form object). */
function breaking(s: Schema): fc.Arbitrary<{ kind: string; value: unknown }>[] {
  const out: fc.Arbitrary<{ kind: string; value: unknown }>[] = [];
  const v = (kind: string, values: readonly unknown[]) => values.length > 0 && out.push(fc.constantFrom(...values).map((value) => ({ kind, value })));
  const ts = types(s);
  const known = ts ?? (s.enum ? [...new Set(s.enum.map((e) => (e === null ? 'null' : typeof e)))] : s.const !== undefined ? [typeof s.const] : null);
  if (known) {
    const others: Record<string, unknown[]> = {
      string: ['1', 'true', ''],
      number: [1, -1, 0],
      integer: [1, 0],
      boolean: [true, false],
      object: [{}, { a: 1 }],
      array: [[], [1]],
    };
    const allowed = new Set(known);
    const numeric = allowed.has('number') || allowed.has('integer');
    const wrong = Object.entries(others)
      .filter(([t]) => !allowed.has(t) && !(numeric && (t === 'number' || t === 'integer')))
      .flatMap(([, vs]) => vs);
    // A fraction where a whole number belongs is the wrong type too.
    v('wrong type', allowed.has('integer') && !allowed.has('number') ? [...wrong, 1.5] : wrong);
    if (!allowed.has('null') && !s.nullable && !(s.enum ?? []).includes(null)) v('null', [null]);
  }
  if (isType(s, 'string')) {
    // Every string a caller sends may reach the immutable log: each has a limit.
    // (Limits count characters: an emoji is one, though two UTF-16 units.)
    const limit = s.maxLength ?? 0;
    // Bodies stay under the 1 MiB limit (4 bytes an emoji), so that what is judged is the field.
    v('too long', [...(s.maxLength !== undefined ? ['x'.repeat(limit + 1), ...(limit < 200_000 ? ['🙂'.repeat(limit + 1)] : [])] : []), ...(limit < 100_000 ? ['x'.repeat(100_000)] : [])]);
    if (s.pattern) {
      const re = new RegExp(s.pattern);
      v('off pattern', NOT_MATCHING.filter((x) => !re.test(x)));
    }
    if (s.format === 'date-time') v('not an instant', NOT_INSTANTS);
    // JSON can carry a lone surrogate ("\ud800"); it is no text, and has no canonical form to hash in the audit log.
    if (!s.enum && s.const === undefined) v('lone surrogate', ['\ud800', 'ANL-\udc00', `${'x'.repeat(Math.max(0, (s.minLength ?? 1) - 1))}\ud83d`]);
    if (s.minLength && s.minLength > 0 && !s.pattern) v('too short', ['']);
  }
  if (s.enum) v('not in enum', ['NOT_A_VALUE', String(s.enum[0] ?? '').toUpperCase() + ' ', 'Ⅰ'].filter((x) => !s.enum!.includes(x)));
  if (s.const !== undefined) v('not the constant', ['2.0', 'x', ''].filter((x) => x !== s.const));
  if (isType(s, 'integer') || isType(s, 'number')) {
    const min = s.minimum;
    const max = s.maximum;
    const candidates: unknown[] = [new RawJson('1e400'), new RawJson('-1e400')];
    if (min !== undefined) candidates.push(s.exclusiveMinimum === true ? min : min - 1, min - 1e12);
    if (max !== undefined) candidates.push(max + 1, 1e308);
    if (isType(s, 'integer')) candidates.push((min ?? 0) + 1.5);
    if (s.not?.const !== undefined) candidates.push(s.not.const);
    v('out of range', candidates);
  }
  if (isType(s, 'object') || s.properties) {
    v('array for an object', [[sample(s)], []]);
    if (s.required?.length) out.push(fc.constantFrom(...s.required).map((k) => ({ kind: `missing ${k}`, value: { __missing: k } })));
  }
  if (isType(s, 'array')) {
    v('object for an array', [{ 0: sample(s.items ?? {}) }, { length: 1 }]);
    if (s.maxItems !== undefined && s.maxItems <= 1000) v('too many items', [Array.from({ length: s.maxItems + 1 }, () => sample(s.items ?? {}))]);
  }
  // Nested far deeper than any body needs (the limit is checked before anything walks it).
  v('nested deep', [nested(10_000)]);
  return out;
}

/**
 * Bodies broken at one node of the route's schema, in `base` (default: a sample of the schema).
 * `skip`: fields the server does not read (a webhook's `api_version`): nothing to hold it to.
 */
export function mutations(root: Schema, options: { readonly base?: unknown; readonly skip?: readonly string[]; readonly bodyOptional?: boolean } = {}): fc.Arbitrary<Mutation> {
  const base = options.base ?? sample(root);
  const choices: fc.Arbitrary<Mutation>[] = [];
  for (const node of nodes(root)) {
    if (options.skip?.includes(formatPath(node.path))) continue;
    // An optional body sent as JSON null is no body (`{}` then): nothing to refuse.
    const schema = node.path.length === 0 && options.bodyOptional ? { ...node.schema, nullable: true } : node.schema;
    for (const arb of breaking(schema)) {
      choices.push(
        arb.map(({ kind, value }) => {
          if (value && typeof value === 'object' && '__missing' in value) {
            const key = (value as { __missing: string }).__missing;
            const path = [...node.path, key];
            const present = withValueAt(base, node.path, getAt(base, node.path) ?? sample(node.schema), root);
            return described({ kind, path, body: withoutKey(present, path, root), naming: 'field' });
          }
          return described({ kind, path: node.path, body: withValueAt(base, node.path, value, root), naming: kind === 'nested deep' ? 'body' : 'field' });
        }),
      );
    }
    const objectSchema = node.schema.oneOf && !node.schema.properties ? null : node.schema;
    if (objectSchema && (isType(objectSchema, 'object') || objectSchema.properties) && objectSchema.additionalProperties === false) {
      choices.push(
        fc.constantFrom(...EXTRA_KEYS).map((key) => {
          const here = getAt(base, node.path) ?? sample(objectSchema);
          return described({ kind: `unknown key ${key}`, path: [...node.path, key], body: withValueAt(base, node.path, { ...(here as object), [key]: 'x' }, root), naming: 'field' });
        }),
      );
    }
  }
  return fc.oneof(...choices);
}

/** Whether the answer's error paths name the broken field: itself, a field inside it, or the list it is an item of. */
export function namesField(errorPaths: readonly string[], path: Path): boolean {
  const exact = formatPath(path);
  const candidates = new Set([exact]);
  // A list item's error is reported on the list by class-validator (`customers`, not `customers[0]`),
  // and an unknown key that cannot be written as a path (the empty key) on the object it sits in.
  for (let i = path.length - 1; i >= 1; i--) if (typeof path[i] === 'number' || path[i] === '') candidates.add(formatPath(path.slice(0, i)));
  return errorPaths.some((p) => candidates.has(p) || (exact !== '' && (p.startsWith(`${exact}.`) || p.startsWith(`${exact}[`))) || (exact === '' && p !== ''));
}
