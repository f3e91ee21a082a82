import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { MAX_PAGE_SIZE } from '@el/read-models';
import { integerApi } from '@el/platform';

/** Query parameters every read-model query accepts: keyset pagination and read-your-writes. */
export class ReadParams {
  @ApiPropertyOptional({ description: `Page size (1–${MAX_PAGE_SIZE}, default 50)`, ...integerApi(1, MAX_PAGE_SIZE) })
  @IsOptional() @Type(() => Number) @Min(1) @Max(MAX_PAGE_SIZE) @IsInt() limit?: number;
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional() @IsString() @MaxLength(512) cursor?: string;
  @ApiPropertyOptional({ description: 'Position returned by a write: the answer waits until it includes that write (503 READ_MODEL.BEHIND if it cannot within QUERY_WAIT_MS)', ...integerApi(0) })
  @IsOptional() @Type(() => Number) @Min(0) @IsInt() minPosition?: number;
}

export function pageOf(p: ReadParams): { limit?: number; cursor?: string } {
  return { ...(p.limit !== undefined ? { limit: p.limit } : {}), ...(p.cursor !== undefined ? { cursor: p.cursor } : {}) };
}
