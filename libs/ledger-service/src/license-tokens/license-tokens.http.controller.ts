import { Body, Controller, Get, Header, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Min } from 'class-validator';
import { Clock, Ctx, ID_PATTERN, ID_RULE, Public, type RequestContext } from '@el/platform';
import { commandMetadata } from '../infrastructure/command-metadata';
import { LicenseTokens, type IssuedToken } from './license-tokens';

export class IssueTokenDto {
  @ApiProperty({ example: 'acme' }) @IsString() @Matches(ID_PATTERN, { message: `customerId must be ${ID_RULE}` }) customerId!: string;
  @ApiPropertyOptional({ description: 'Bind the token to a user: it then says whether that user holds a seat' })
  @IsOptional() @IsString() @Matches(ID_PATTERN, { message: `userId must be ${ID_RULE}` }) userId?: string;
  @ApiPropertyOptional({ description: 'Bind the token to a device: it then says whether that device is activated' })
  @IsOptional() @IsString() @Matches(ID_PATTERN, { message: `deviceId must be ${ID_RULE}` }) deviceId?: string;
  @ApiPropertyOptional({ description: 'Position of a write the token must reflect' })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) minPosition?: number;
}

export class RefreshTokenDto {
  @ApiProperty({ description: 'A token this ledger issued (it may have expired up to TOKEN_REFRESH_GRACE_SECONDS ago)' }) @IsString() token!: string;
}

class IssuedTokenView {
  @ApiProperty({ description: 'Compact JWS, EdDSA (Ed25519); verify against /.well-known/jwks.json' }) token!: string;
  @ApiProperty() tokenId!: string;
  @ApiProperty() keyId!: string;
  @ApiProperty() customerId!: string;
  @ApiProperty() expiresAt!: string;
  @ApiProperty({ description: 'Ledger position the token reflects' }) position!: number;
}

@ApiTags('license tokens')
@Controller()
export class LicenseTokensController {
  constructor(
    private readonly tokens: LicenseTokens,
    private readonly clock: Clock,
  ) {}

  @Post('v1/tokens')
  @HttpCode(201)
  @ApiOperation({ summary: 'Issue a signed license token: what the customer owns, for offline checks by the SDK' })
  @ApiBody({ type: IssueTokenDto })
  @ApiCreatedResponse({ type: IssuedTokenView })
  issue(@Body() dto: IssueTokenDto, @Ctx() ctx: RequestContext): Promise<IssuedToken> {
    return this.tokens.issue(dto, commandMetadata(ctx, this.clock));
  }

  @Post('v1/tokens/refresh')
  @HttpCode(201)
  @ApiOperation({ summary: 'A fresh token for the same customer, user and device, reflecting upgrades and downgrades since' })
  @ApiBody({ type: RefreshTokenDto })
  @ApiCreatedResponse({ type: IssuedTokenView })
  @ApiUnauthorizedResponse({ description: 'TOKEN.INVALID: bad signature, wrong issuer or audience, expired beyond the grace' })
  refresh(@Body() dto: RefreshTokenDto, @Ctx() ctx: RequestContext): Promise<IssuedToken> {
    return this.tokens.refresh(dto.token, commandMetadata(ctx, this.clock));
  }

  @Public()
  @Get('.well-known/jwks.json')
  @Header('cache-control', 'public, max-age=300')
  @ApiOperation({ summary: 'Public keys that verify license tokens (the signing key and recently rotated ones)' })
  @ApiOkResponse({ description: '{keys: [{kty: "OKP", crv: "Ed25519", x, kid, alg: "EdDSA", use: "sig"}]}' })
  jwks() {
    return this.tokens.jwks();
  }
}
