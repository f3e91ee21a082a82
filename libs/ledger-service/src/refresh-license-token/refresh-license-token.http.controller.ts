import { Body, Controller, HttpCode, Post, Header } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiCreatedResponse, ApiOperation, ApiProperty, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Ctx, IsText, type RequestContext, textApi, Access } from '@el/platform';
import { IssuedTokenView } from '../issue-license-token/issue-license-token.http.controller';
import type { IssuedToken } from '../license-tokens/license-token-issuer';
import { RefreshLicenseTokenCommand } from './refresh-license-token.command';

/** Tokens are a few KB even for customers with many entitlements; anything far larger is not one of ours. */
const MAX_TOKEN_LENGTH = 256 * 1024;

export class RefreshTokenDto {
  @ApiProperty({ description: 'A token this ledger issued (it may have expired up to TOKEN_REFRESH_GRACE_SECONDS ago)', ...textApi(MAX_TOKEN_LENGTH) })
  @IsText(MAX_TOKEN_LENGTH, { required: true })
  token!: string;
}

@ApiTags('license tokens')
@Access('tokens:issue')
@Controller('v1/tokens')
export class RefreshLicenseTokenController {
  constructor(private readonly commands: CommandBus) {}

  @Post('refresh')
  // The answer carries a credential: no cache (browser, proxy) may keep it.
  @Header('Cache-Control', 'no-store')
  @HttpCode(201)
  @ApiOperation({ summary: 'A fresh token for the same customer, user and device, reflecting upgrades and downgrades since' })
  @ApiBody({ type: RefreshTokenDto })
  @ApiCreatedResponse({ type: IssuedTokenView })
  @ApiUnauthorizedResponse({ description: 'TOKEN.INVALID: bad signature, wrong issuer or audience, expired beyond the grace' })
  refresh(@Body() dto: RefreshTokenDto, @Ctx() ctx: RequestContext): Promise<IssuedToken> {
    return this.commands.execute(new RefreshLicenseTokenCommand(dto.token, ctx));
  }
}
