import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Access, Ctx, IdParamPipe, IsText, textApi, type RequestContext } from '@el/platform';
import { ApiKeyView } from '../api-keys/api-key.view';
import { RevokeApiKeyCommand } from './revoke-api-key.command';

export class RevokeApiKeyDto {
  @ApiProperty({ example: 'leaked in a CI log', ...textApi(500) }) @IsText(500, { required: true }) reason!: string;
}

@ApiTags('api keys')
@Access('api-keys:manage')
@Controller('v1/api-keys')
export class RevokeApiKeyController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':keyId/revoke')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke an API key; every process refuses it within API_KEY_REFRESH_MS (default 1 s)' })
  @ApiBody({ type: RevokeApiKeyDto })
  @ApiOkResponse({ type: ApiKeyView })
  @ApiNotFoundResponse({ description: 'API_KEY.NOT_FOUND' })
  @ApiConflictResponse({ description: 'API_KEY.ALREADY_REVOKED, API_KEY.LAST_ADMIN (create another admin key first)' })
  revoke(@Param('keyId', IdParamPipe) keyId: string, @Body() dto: RevokeApiKeyDto, @Ctx() ctx: RequestContext): Promise<ApiKeyView> {
    return this.commands.execute(new RevokeApiKeyCommand(keyId, dto.reason, ctx));
  }
}
