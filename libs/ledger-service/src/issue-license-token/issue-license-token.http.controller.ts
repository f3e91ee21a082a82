import { Body, Controller, HttpCode, Post, Header } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiCreatedResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { IsInt, Min } from 'class-validator';
import { Ctx, ID_API, integerApi, IsIdentifier, OptionalField, type RequestContext, Access } from '@el/platform';
import type { IssuedToken } from '../license-tokens/license-token-issuer';
import { IssueLicenseTokenCommand } from './issue-license-token.command';

export class IssueTokenDto {
  @ApiProperty({ example: 'acme', ...ID_API }) @IsIdentifier('customerId') customerId!: string;
  @ApiPropertyOptional({ description: 'Bind the token to a user: it then says whether that user holds a seat', ...ID_API }) @OptionalField() @IsIdentifier('userId') userId?: string;
  @ApiPropertyOptional({ description: 'Bind the token to a device: it then says whether that device is activated', ...ID_API }) @OptionalField() @IsIdentifier('deviceId') deviceId?: string;
  @ApiPropertyOptional({ description: 'Position of a write the token must reflect', ...integerApi(0) }) @OptionalField() @Min(0) @IsInt() minPosition?: number;
}

export class IssuedTokenView {
  @ApiProperty({ description: 'Compact JWS, EdDSA (Ed25519); verify against /.well-known/jwks.json' }) token!: string;
  @ApiProperty() tokenId!: string;
  @ApiProperty() keyId!: string;
  @ApiProperty() customerId!: string;
  @ApiProperty() expiresAt!: string;
  @ApiProperty({ description: 'Ledger position the token reflects' }) position!: number;
}

@ApiTags('license tokens')
@Access('tokens:issue')
@Controller('v1/tokens')
export class IssueLicenseTokenController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  // The answer carries a credential: no cache (browser, proxy) may keep it.
  @Header('Cache-Control', 'no-store')
  @HttpCode(201)
  @ApiOperation({ summary: 'Issue a signed license token: what the customer owns, for offline checks by the SDK' })
  @ApiBody({ type: IssueTokenDto })
  @ApiCreatedResponse({ type: IssuedTokenView })
  @ApiServiceUnavailableResponse({ description: 'READ_MODEL.BEHIND: minPosition not reached in time' })
  issue(@Body() dto: IssueTokenDto, @Ctx() ctx: RequestContext): Promise<IssuedToken> {
    return this.commands.execute(new IssueLicenseTokenCommand(dto.customerId, dto.userId, dto.deviceId, dto.minPosition, ctx));
  }
}
