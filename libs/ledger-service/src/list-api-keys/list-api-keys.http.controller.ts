import { Controller, Get, Query as QueryParams } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsBoolean } from 'class-validator';
import { Transform } from 'class-transformer';
import { Access, OptionalField } from '@el/platform';
import { ApiKeyView } from '../api-keys/api-key.view';
import { ListApiKeysQuery } from './list-api-keys.query';

export class ListApiKeysParams {
  @ApiPropertyOptional({ default: false, description: 'Include revoked keys' })
  @OptionalField()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  includeRevoked?: boolean;
}

@ApiTags('api keys')
@Access('api-keys:read')
@Controller('v1/api-keys')
export class ListApiKeysController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'The API keys (never their secrets): role, scope, who created and revoked them, when' })
  @ApiOkResponse({ type: [ApiKeyView] })
  list(@QueryParams() p: ListApiKeysParams): Promise<{ items: ApiKeyView[] }> {
    return this.queries.execute(new ListApiKeysQuery(p.includeRevoked ?? false));
  }
}
