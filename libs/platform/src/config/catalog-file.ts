import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { formatCatalogIssues, parseCatalog, type Catalog } from '@el/domain';

export class CatalogLoadError extends Error {
  override readonly name = 'CatalogLoadError';
}

/** Reads and validates a catalog file; every error names CATALOG_PATH and the bad path inside the file. */
export function loadCatalogFile(path: string): Catalog {
  const full = resolve(path);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (err) {
    throw new CatalogLoadError(`CATALOG_PATH: cannot read ${full}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}` : '';
    throw new CatalogLoadError(`CATALOG_PATH: ${full} is not valid YAML/JSON${where}: ${(err as Error).message.split('\n')[0]}`);
  }
  const result = parseCatalog(doc);
  if (!result.ok) {
    throw new CatalogLoadError(`CATALOG_PATH: ${full} is not a valid catalog (${result.issues.length} problem${result.issues.length === 1 ? '' : 's'}):\n${formatCatalogIssues(result.issues)}`);
  }
  return result.catalog;
}
