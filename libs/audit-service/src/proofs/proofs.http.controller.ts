import { Controller, Get, Query as QueryParams } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import type { SignedTreeHeadV1 } from '@el/contracts';
import { Access, integerApi, IsQueryInteger } from '@el/platform';
import { AuditError } from '../audit.errors';
import { AuditLog } from '../log/audit-log';
import { TreeHeads } from '../tree-heads/tree-heads';

const MAX = Number.MAX_SAFE_INTEGER;

export class InclusionParams {
  @ApiProperty({ description: 'Ledger position of the event', ...integerApi(1, MAX) }) @IsQueryInteger(1, MAX) position!: number;
  @ApiPropertyOptional({ description: 'Size of the tree to prove it in (default: the newest signed tree head)', ...integerApi(1, MAX) })
  @IsOptional() @IsQueryInteger(1, MAX) treeSize?: number;
}

export class ConsistencyParams {
  @ApiProperty({ description: 'The earlier tree size', ...integerApi(0, MAX) }) @IsQueryInteger(0, MAX) from!: number;
  @ApiPropertyOptional({ description: 'The later tree size (default: the newest signed tree head)', ...integerApi(0, MAX) }) @IsOptional() @IsQueryInteger(0, MAX) to?: number;
}

export class TreeHeadListParams {
  @ApiPropertyOptional({ description: 'Only heads of a larger tree (the cursor: the last treeSize of the previous page)', ...integerApi(0, MAX) }) @IsOptional() @IsQueryInteger(0, MAX) afterSize?: number;
  @ApiPropertyOptional({ description: 'At most this many (default 100)', ...integerApi(1, 1000) }) @IsOptional() @IsQueryInteger(1, 1000) limit?: number;
}

const hex = (hs: readonly Buffer[]) => hs.map((h) => h.toString('hex'));

/**
 * The audit log's tree heads and RFC 6962 proofs. Hashes are lowercase hex;
 * proofs are the RFC's audit paths, verified with RFC 9162 §2.1.3.2 (inclusion)
 * and §2.1.4.2 (consistency).
 */
@ApiTags('audit')
@Controller('v1/audit')
export class ProofsController {
  constructor(
    private readonly log: AuditLog,
    private readonly heads: TreeHeads,
  ) {}

  @Get('tree-heads/latest')
  @Access('audit:read')
  @ApiOperation({ summary: 'The newest signed tree head (signed now when the log grew since the last one)', description: 'Verify its signature with the key of its kid in /.well-known/jwks.json (use "audit"); the signed bytes are described in libs/audit-service/README.md.' })
  @ApiOkResponse({ description: 'SignedTreeHeadV1: {version, treeSize, rootHash, lastPosition, timestamp, kid, signature}' })
  @ApiNotFoundResponse({ description: 'AUDIT.EMPTY_LOG: nothing logged yet' })
  async latest(): Promise<SignedTreeHeadV1> {
    if (this.log.size === 0) throw new AuditError('AUDIT.EMPTY_LOG', 'the audit log holds no event yet');
    return this.heads.covering(this.log.size);
  }

  @Get('tree-heads')
  @Access('audit:read')
  @ApiOperation({ summary: 'Signed tree heads, smallest tree first (paginate with afterSize)' })
  @ApiOkResponse({ description: '{items: SignedTreeHeadV1[], nextAfterSize: number | null}' })
  async list(@QueryParams() p: TreeHeadListParams): Promise<{ items: SignedTreeHeadV1[]; nextAfterSize: number | null }> {
    const limit = p.limit ?? 100;
    const items = await this.heads.list(p.afterSize ?? 0, limit);
    return { items, nextAfterSize: items.length === limit ? items[items.length - 1]!.treeSize : null };
  }

  @Get('proofs/inclusion')
  @Access('audit:read')
  @ApiOperation({
    summary: 'RFC 6962 inclusion proof of the event at a position in the tree of a size (default: the newest signed tree head)',
    description: 'Answers the event as logged (`entry`: the exact bytes its leaf hash covers), its leaf index and hash, the audit path, the root of that size and the signed tree head of that size when one was signed.',
  })
  @ApiOkResponse({ description: '{position, leafIndex, treeSize, leafHash, entry, proof: [hex], rootHash, treeHead: SignedTreeHeadV1 | null}' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED, or AUDIT.TREE_SIZE_OUT_OF_RANGE: a tree that does not hold the event, or larger than the log' })
  @ApiNotFoundResponse({ description: 'AUDIT.EVENT_NOT_FOUND: no event at that position in the audit log (yet)' })
  async inclusion(@QueryParams() p: InclusionParams) {
    const leaf = await this.log.leafAt(p.position);
    if (!leaf) throw new AuditError('AUDIT.EVENT_NOT_FOUND', `no event at position ${p.position} in the audit log${p.position > this.log.lastPosition ? ` (it holds events up to position ${this.log.lastPosition})` : ''}`, { position: p.position });
    const head = p.treeSize === undefined ? await this.heads.covering(leaf.leafIndex + 1) : await this.heads.ofSize(p.treeSize);
    const size = p.treeSize ?? head!.treeSize;
    if (size > this.log.size || size <= leaf.leafIndex) {
      throw new AuditError('AUDIT.TREE_SIZE_OUT_OF_RANGE', `treeSize must be from ${leaf.leafIndex + 1} (the tree that first holds position ${p.position}) to ${this.log.size} (the log's size)`, { treeSize: size, min: leaf.leafIndex + 1, max: this.log.size });
    }
    return {
      position: p.position,
      leafIndex: leaf.leafIndex,
      treeSize: size,
      leafHash: leaf.leafHash,
      entry: leaf.entry,
      proof: hex(this.log.tree.inclusionProof(leaf.leafIndex, size)),
      rootHash: this.log.tree.root(size).toString('hex'),
      treeHead: head,
    };
  }

  @Get('proofs/consistency')
  @Access('audit:read')
  @ApiOperation({ summary: 'RFC 6962 consistency proof: the tree of size `from` is a prefix of the tree of size `to` (default: the newest signed tree head)', description: 'With both roots and, when signed, both tree heads.' })
  @ApiOkResponse({ description: '{from, to, proof: [hex], fromRoot, toRoot, fromTreeHead, toTreeHead}' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED, or AUDIT.TREE_SIZE_OUT_OF_RANGE: from > to, or a size beyond the log' })
  async consistency(@QueryParams() p: ConsistencyParams) {
    if (this.log.size === 0) throw new AuditError('AUDIT.EMPTY_LOG', 'the audit log holds no event yet');
    const toHead = p.to === undefined ? await this.heads.covering(this.log.size) : await this.heads.ofSize(p.to);
    const to = p.to ?? toHead!.treeSize;
    if (to > this.log.size || p.from > to) throw new AuditError('AUDIT.TREE_SIZE_OUT_OF_RANGE', `sizes must satisfy 0 ≤ from ≤ to ≤ ${this.log.size} (the log's size)`, { from: p.from, to, max: this.log.size });
    return {
      from: p.from,
      to,
      proof: hex(this.log.tree.consistencyProof(p.from, to)),
      fromRoot: this.log.tree.root(p.from).toString('hex'),
      toRoot: this.log.tree.root(to).toString('hex'),
      fromTreeHead: await this.heads.ofSize(p.from),
      toTreeHead: toHead,
    };
  }
}
