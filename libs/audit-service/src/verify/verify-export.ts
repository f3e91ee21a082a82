import { hash } from 'node:crypto';
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

const EVENT_LINE = Buffer.from('{"kind":"event",');
const EVENT_MEMBER = Buffer.from(',"event":');
const POSITION_MEMBER = Buffer.from(',"position":');
const CLOSE = 0x7d; // }

/**
 * SHA-256(0x00 ‖ line[start, end)): the leaf hash of an entry as it stands in
 * its line, hashed in place (the byte before the entry is set to 0x00 for the
 * call and put back), with no copy.
 */
function leafInPlace(line: Buffer, start: number, end: number): Buffer {
  const before = line[start - 1]!;
  line[start - 1] = 0;
  try {
    return hash('sha256', line.subarray(start - 1, end), 'buffer');
  } finally {
    line[start - 1] = before;
  }
}

/**
 * The top-level position of an entry: canonical JSON sorts the members data,
 * metadata, position, revision, stream, type, so the last `,"position":` of
 * the entry is the top-level one (a quote inside a string is always escaped).
 */
function positionOf(line: Buffer, start: number): number | null {
  const at = line.lastIndexOf(POSITION_MEMBER);
  if (at < start) return null;
  let n = 0;
  let i = at + POSITION_MEMBER.length;
  const first = i;
  for (; i < line.length && line[i]! >= 0x30 && line[i]! <= 0x39; i++) n = n * 10 + (line[i]! - 0x30);
  return i > first && i - first <= 16 && (line[i] === 0x2c || line[i] === CLOSE) ? n : null;
}

const HEX_SCRATCH = Buffer.alloc(32);
const LEAF_INDEX_MEMBER = Buffer.from('{"kind":"event","leafIndex":');
const LEAF_HASH_MEMBER = Buffer.from(',"leafHash":"');

/**
 * The members of an event line of a complete export read by position, when
 * the line has exactly the exporter's form before its entry:
 * `{"kind":"event","leafIndex":<digits>,"leafHash":"<64 lowercase hex>"`.
 * Null for anything else, which is then parsed as JSON (same result, slower).
 */
function completeEventMembers(line: Buffer, at: number): { leafIndex: number; leafHash: string } | null {
  if (!line.subarray(0, LEAF_INDEX_MEMBER.length).equals(LEAF_INDEX_MEMBER)) return null;
  let i = LEAF_INDEX_MEMBER.length;
  let n = 0;
  const first = i;
  for (; i < at && line[i]! >= 0x30 && line[i]! <= 0x39; i++) n = n * 10 + (line[i]! - 0x30);
  if (i === first || i - first > 15 || (line[first] === 0x30 && i - first > 1)) return null;
  if (at !== i + LEAF_HASH_MEMBER.length + 65 || !line.subarray(i, i + LEAF_HASH_MEMBER.length).equals(LEAF_HASH_MEMBER) || line[at - 1] !== 0x22) return null;
  const hex = line.toString('latin1', i + LEAF_HASH_MEMBER.length, at - 1);
  return /^[0-9a-f]{64}$/.test(hex) ? { leafIndex: n, leafHash: hex } : null;
}

/** Splits a byte stream into lines (without their "\n"), as Buffers: what verifyExport reads fastest. */
export async function* byteLines(input: AsyncIterable<Uint8Array | string>): AsyncGenerator<Buffer> {
  // The start of a line a chunk ended in; only it is copied, never a whole chunk.
  let rest: Buffer | null = null;
  for await (const chunk of input) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let from = 0;
    let nl = buf.indexOf(0x0a);
    if (rest) {
      if (nl < 0) {
        rest = Buffer.concat([rest, buf]);
        continue;
      }
      yield Buffer.concat([rest, buf.subarray(0, nl)]);
      rest = null;
      from = nl + 1;
      nl = buf.indexOf(0x0a, from);
    }
    for (; nl >= 0; nl = buf.indexOf(0x0a, from)) {
      yield buf.subarray(from, nl);
      from = nl + 1;
    }
    rest = from < buf.length ? Buffer.from(buf.subarray(from)) : null;
  }
  if (rest && rest.length > 0) yield rest;
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
export async function verifyExport(lines: AsyncIterable<string | Buffer>, options: VerifyOptions): Promise<VerifyReport> {
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
  let trailing = 0;
  const report = (failure: VerifyFailure | null): VerifyReport => ({ ok: failure === null, events, treeHeads: heads, complete: header?.complete ?? null, treeHead: header?.treeHead ?? null, failure });

  try {
    for await (const raw of lines) {
      lineNo += 1;
      let line = typeof raw === 'string' ? Buffer.from(raw) : raw;
      if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, -1);
      if (ended) {
        // At most the newline that ends the end line.
        if (line.length > 0 || (trailing += 1) > 1) throw new Refused(null, 'a line follows the end line');
        continue;
      }
      if (line.length === 0) continue;
      if (header !== null && line.subarray(0, EVENT_LINE.length).equals(EVENT_LINE)) {
        // An event line (the hot path): its members parsed without its entry, the entry hashed where it stands.
        const at = line.indexOf(EVENT_MEMBER);
        if (at < 0 || line[line.length - 1] !== CLOSE) throw new Refused(null, 'an event line must end with its "event" member');
        let members: { leafIndex?: unknown; leafHash?: unknown; proof?: unknown } | null = completeEventMembers(line, at);
        if (members === null) {
          try {
            members = JSON.parse(`${line.toString('latin1', 0, at)}}`) as { leafIndex?: unknown; leafHash?: unknown; proof?: unknown };
          } catch {
            throw new Refused(null, 'not a JSON line');
          }
        }
        const start = at + EVENT_MEMBER.length;
        const position = positionOf(line, start);
        const index = members.leafIndex;
        if (position === null) throw new Refused(null, 'an event without a position');
        if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) throw new Refused(position, 'an event without a leaf index');
        if (position <= lastPosition) throw new Refused(position, `position ${position} comes after position ${lastPosition}: the export is out of order`);
        if (header.complete ? index !== lastIndex + 1 : index <= lastIndex) throw new Refused(position, header.complete ? `leaf ${index} where leaf ${lastIndex + 1} belongs: an event is missing or out of order` : `leaf ${index} comes after leaf ${lastIndex}: the export is out of order`);
        if (index >= header.treeHead.treeSize) throw new Refused(position, `leaf ${index} lies outside the tree head of size ${header.treeHead.treeSize}`);
        const leaf = leafInPlace(line, start, line.length - 1);
        if (typeof members.leafHash !== 'string' || members.leafHash.length !== 64 || HEX_SCRATCH.write(members.leafHash, 'hex') !== 32 || !leaf.equals(HEX_SCRATCH)) throw new Refused(position, `position ${position}: the event does not hash to its leaf hash (the event was altered)`);
        if (header.complete) {
          tree.append(leaf);
        } else {
          const proof = Array.isArray(members.proof) ? (members.proof as unknown[]).map((h) => (typeof h === 'string' && /^[0-9a-f]{64}$/.test(h) ? Buffer.from(h, 'hex') : null)) : null;
          if (!proof || proof.some((h) => h === null) || !verifyInclusion(leaf, index, header.treeHead.treeSize, proof, anchorRoot)) {
            throw new Refused(position, `position ${position}: its inclusion proof does not lead to the signed root of size ${header.treeHead.treeSize}`);
          }
        }
        lastPosition = position;
        lastIndex = index;
        events += 1;
        if (events % every === 0) options.onProgress?.(events, header.events);
        continue;
      }
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line.toString('utf8')) as Record<string, unknown>;
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
        case 'event':
          throw new Refused(null, 'an event line must start with {"kind":"event",');
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
          if (parsed['treeHeads'] !== header.treeHeads || heads !== header.treeHeads) throw new Refused(null, `the export announces ${String(header.treeHeads)} signed tree heads but holds ${heads}: one was removed or added`);
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
