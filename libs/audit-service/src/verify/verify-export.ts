import { createHash } from 'node:crypto';
import type { SignedTreeHeadV1 } from '@el/contracts';
import { MerkleLog } from '../merkle/merkle-log';
import { verifyInclusion } from '../merkle/merkle';
import { AUDIT_EXPORT_FORMAT, type ExportHeader } from '../export/audit-export';
import { TreeHeadVerifier, type PublishedJwk } from '../tree-heads/tree-head';

export interface VerifyFailure {
  /** 1-based line of the export. */
  readonly line: number;
  /** The position of the first event that does not verify, when one can be named. */
  readonly position: number | null;
  readonly reason: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly events: number;
  readonly treeHeads: number;
  readonly complete: boolean | null;
  /** The head everything was proven against. */
  readonly treeHead: SignedTreeHeadV1 | null;
  readonly failure: VerifyFailure | null;
}

export interface VerifyOptions {
  readonly jwks: { readonly keys?: readonly PublishedJwk[] };
  /** Called every `progressEvery` events (and at the end) with the events checked and the count the header announced. */
  readonly onProgress?: (done: number, total: number) => void;
  readonly progressEvery?: number;
}

const ZERO = Buffer.of(0);

/** SHA-256(0x00 ‖ bytes), the leaf hash of an entry as exported. */
function leafOfBytes(entry: string): Buffer {
  return createHash('sha256').update(ZERO).update(entry, 'utf8').digest();
}

class Refused extends Error {
  constructor(
    readonly position: number | null,
    reason: string,
  ) {
    super(reason);
  }
}

/**
 * Verifies an export (see libs/audit-service/README.md, "Verifying an
 * export") from its lines and the public JWKS alone: every event's leaf hash
 * is recomputed from its exact bytes; a complete export rebuilds the tree and
 * checks every signed tree head's root against it; a partial one checks each
 * event's inclusion proof against the header's signed head. Order, count and
 * the end line are checked too, so a truncated or reordered export is refused.
 * Stops at the first failure and names its position.
 */
export async function verifyExport(lines: AsyncIterable<string>, options: VerifyOptions): Promise<VerifyReport> {
  const keys = new TreeHeadVerifier(options.jwks);
  const every = options.progressEvery ?? 10_000;
  const tree = new MerkleLog();
  let header: ExportHeader | null = null;
  let anchorRoot: Buffer | null = null;
  let lineNo = 0;
  let events = 0;
  let heads = 0;
  let lastPosition = -1;
  let lastIndex = -1;
  let checkedSize = 0;
  let ended = false;
  const report = (failure: VerifyFailure | null): VerifyReport => ({ ok: failure === null, events, treeHeads: heads, complete: header?.complete ?? null, treeHead: header?.treeHead ?? null, failure });

  try {
    for await (const raw of lines) {
      lineNo += 1;
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line.length === 0) continue;
      if (ended) throw new Refused(null, 'a line follows the end line');
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Refused(null, 'not a JSON line');
      }
      if (header === null) {
        if (parsed['kind'] !== 'header' || parsed['format'] !== AUDIT_EXPORT_FORMAT) throw new Refused(null, `the first line must be the header of an ${AUDIT_EXPORT_FORMAT} export`);
        header = parsed as unknown as ExportHeader;
        const signed = keys.verify(header.treeHead);
        if (!signed.ok) throw new Refused(null, `the header's tree head does not verify: ${signed.reason}`);
        anchorRoot = Buffer.from(header.treeHead.rootHash, 'hex');
        if (!Number.isSafeInteger(header.events) || header.events < 0) throw new Refused(null, 'the header does not say how many events follow');
        continue;
      }
      switch (parsed['kind']) {
        case 'event': {
          const at = line.indexOf(',"event":');
          if (at < 0 || !line.endsWith('}')) throw new Refused(null, 'an event line must end with its "event" member');
          const entry = line.slice(at + 9, -1);
          const event = parsed['event'] as { position?: unknown } | null;
          const position = typeof event?.position === 'number' ? event.position : null;
          const index = parsed['leafIndex'];
          if (position === null || !Number.isSafeInteger(position)) throw new Refused(null, 'an event without a position');
          if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) throw new Refused(position, 'an event without a leaf index');
          if (position <= lastPosition) throw new Refused(position, `position ${position} comes after position ${lastPosition}: the export is out of order`);
          if (header.complete ? index !== lastIndex + 1 : index <= lastIndex) throw new Refused(position, header.complete ? `leaf ${index} where leaf ${lastIndex + 1} belongs: an event is missing or out of order` : `leaf ${index} comes after leaf ${lastIndex}: the export is out of order`);
          if (index >= header.treeHead.treeSize) throw new Refused(position, `leaf ${index} lies outside the tree head of size ${header.treeHead.treeSize}`);
          const leaf = leafOfBytes(entry);
          if (leaf.toString('hex') !== parsed['leafHash']) throw new Refused(position, `position ${position}: the event does not hash to its leaf hash (the event was altered)`);
          if (header.complete) {
            tree.append(leaf);
          } else {
            const proof = Array.isArray(parsed['proof']) ? (parsed['proof'] as unknown[]).map((h) => (typeof h === 'string' && /^[0-9a-f]{64}$/.test(h) ? Buffer.from(h, 'hex') : null)) : null;
            if (!proof || proof.some((h) => h === null) || !verifyInclusion(leaf, index, header.treeHead.treeSize, proof, anchorRoot)) {
              throw new Refused(position, `position ${position}: its inclusion proof does not lead to the signed root of size ${header.treeHead.treeSize}`);
            }
          }
          lastPosition = position;
          lastIndex = index;
          events += 1;
          if (events % every === 0) options.onProgress?.(events, header.events);
          break;
        }
        case 'treeHead': {
          const { kind: _kind, ...sth } = parsed;
          const head = sth as unknown as SignedTreeHeadV1;
          const signed = keys.verify(head);
          if (!signed.ok) throw new Refused(null, `the tree head of size ${String(head.treeSize)} does not verify: ${signed.reason}`);
          if (header.complete) {
            if (head.treeSize !== tree.size) throw new Refused(null, `the tree head of size ${head.treeSize} follows leaf ${tree.size - 1}: it belongs after leaf ${head.treeSize - 1}`);
            if (tree.root(head.treeSize).toString('hex') !== head.rootHash) {
              throw new Refused(null, `the events of leaves ${checkedSize}..${head.treeSize - 1} (up to position ${head.lastPosition}) do not give the signed root of size ${head.treeSize}: one of them was altered, removed or inserted`);
            }
            checkedSize = head.treeSize;
          }
          heads += 1;
          break;
        }
        case 'end': {
          if (parsed['events'] !== events) throw new Refused(null, `the end line counts ${String(parsed['events'])} events but ${events} came before it`);
          ended = true;
          break;
        }
        default:
          throw new Refused(null, `unknown line kind ${JSON.stringify(parsed['kind'])}`);
      }
    }
    if (header === null) throw new Refused(null, 'the export is empty');
    if (!ended) throw new Refused(null, `the export ends after ${events} of ${header.events} events (last position ${lastPosition}) without its end line: it is truncated`);
    if (events !== header.events) throw new Refused(null, `the header announced ${header.events} events but ${events} came`);
    if (header.complete) {
      if (tree.size !== header.treeHead.treeSize) throw new Refused(null, `a complete export must hold the ${header.treeHead.treeSize} events of its tree head, it holds ${tree.size}`);
      if (!tree.root().equals(anchorRoot!)) throw new Refused(null, `the events do not give the signed root of size ${header.treeHead.treeSize}: one of leaves ${checkedSize}..${tree.size - 1} was altered`);
    }
    options.onProgress?.(events, header.events);
    return report(null);
  } catch (err) {
    if (err instanceof Refused) return report({ line: lineNo, position: err.position, reason: err.message });
    throw err;
  }
}
