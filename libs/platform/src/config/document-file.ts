import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';

/** Thrown when a configured document (e.g. the catalog) cannot be read, parsed or validated. */
export class DocumentLoadError extends Error {
  override readonly name: string;
  constructor(message: string, name = 'DocumentLoadError') {
    super(message);
    this.name = name;
  }
}

export type DocumentParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly issues: readonly { readonly path: string; readonly message: string }[] };

export interface DocumentFileOptions<T> {
  /** The environment variable that named the file; every error starts with it. */
  readonly variable: string;
  /** What the document is, for messages ("catalog"). */
  readonly what: string;
  /** Name given to the thrown error (serve.ts reports known error names without a stack). */
  readonly errorName?: string;
  /** Validates the parsed YAML/JSON document; issues name their path inside the file. */
  readonly parse: (doc: unknown) => DocumentParseResult<T>;
}

/**
 * Reads a YAML or JSON file and validates it. Every error names the variable,
 * the file and, for invalid content, each bad path inside it.
 */
export function loadDocumentFile<T>(path: string, options: DocumentFileOptions<T>): T {
  const { variable, what } = options;
  const fail = (message: string): never => {
    throw new DocumentLoadError(`${variable}: ${message}`, options.errorName);
  };
  const full = resolve(path);
  let text = '';
  try {
    text = readFileSync(full, 'utf8');
  } catch (err) {
    fail(`cannot read ${full}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}` : '';
    fail(`${full} is not valid YAML/JSON${where}: ${(err as Error).message.split('\n')[0]}`);
  }
  const result = options.parse(doc);
  if (!result.ok) {
    const n = result.issues.length;
    const list = result.issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n');
    return fail(`${full} is not a valid ${what} (${n} problem${n === 1 ? '' : 's'}):\n${list}`);
  }
  return result.value;
}
