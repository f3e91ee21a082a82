import { Body, Controller, HttpCode, Post, Header } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiCreatedResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsString, Matches } from 'class-validator';
import { API_KEY_ROLES, type ApiKeyRole } from '@el/domain';
import { Access, Ctx, ID_API, ID_PATTERN, ID_RULE, IsIdentifier, IsText, OptionalField, textApi, type RequestContext } from '@el/platform';
import { ApiKeyView } from '../api-keys/api-key.view';
import { CreateApiKeyCommand, type CreatedApiKey } from './create-api-key.command';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'billing-sync', description: 'What the key is for (shown in lists and on every event it causes)', ...textApi(100) }) @IsText(100, { required: true }) name!: string;
  @ApiProperty({ enum: API_KEY_ROLES, example: 'operator' }) @IsIn(API_KEY_ROLES) role!: ApiKeyRole;
  @ApiPropertyOptional({ example: 'acme', description: 'The customer of a customer-admin or customer-user key (required for them)', ...ID_API }) @OptionalField() @IsIdentifier('customerId') customerId?: string;
  @ApiPropertyOptional({ type: [String], maxItems: 1000, description: 'For a service key: limit it to these customers (default: all)' })
  @OptionalField()
  @Matches(ID_PATTERN, { each: true, message: `customers must each be ${ID_RULE}` })
  @IsString({ each: true })
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @IsArray()
  customers?: string[];
}

export class CreatedApiKeyView extends ApiKeyView {
  @ApiProperty({ example: 'elk_3f9c1a7b2e4d6f80_…', description: 'The key: shown this once, stored nowhere (only its SHA-256)' }) key!: string;
}

@ApiTags('api keys')
@Access('api-keys:manage')
@Controller('v1/api-keys')
export class CreateApiKeyController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  // The answer carries a credential: no cache (browser, proxy) may keep it.
  @Header('Cache-Control', 'no-store')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an API key with a role (and a customer, for customer roles); the key is shown once' })
  @ApiBody({ type: CreateApiKeyDto })
  @ApiCreatedResponse({ type: CreatedApiKeyView })
  @ApiUnprocessableEntityResponse({ description: 'API_KEY.INVALID_SCOPE: a customer role without customerId, or customers on a role that sees all' })
  create(@Body() dto: CreateApiKeyDto, @Ctx() ctx: RequestContext): Promise<CreatedApiKey> {
    const customers = dto.customerId !== undefined ? [dto.customerId, ...(dto.customers ?? [])] : (dto.customers ?? null);
    return this.commands.execute(new CreateApiKeyCommand(dto.name, dto.role, customers, ctx));
  }
}
