import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { usageCorrectionSchemaV1, type UsageCorrectionResultV1, type UsageCorrectionV1 } from '@el/contracts';
import { Access, Ctx, JsonSchemaPipe, openApiSchema, type RequestContext } from '@el/platform';
import { CorrectUsageCommand } from './correct-usage.command';

@ApiTags('usage')
@Controller()
export class CorrectUsageController {
  constructor(private readonly commands: CommandBus) {}

  @Post('v1/usage/corrections')
  @HttpCode(201)
  @Access('usage:correct')
  @ApiOperation({
    summary: "Correct a meter's usage for one period (positive or negative), with the reason and the usage events it is about",
    description:
      'Recorded as UsageCorrected in the event store (who, why, when) and applied to the metering store: the counter moves by the quantity, the original usage events stay as they are, and the export shows both. ' +
      '`correctionId` is the idempotency key: a retry answers what was recorded (`replayed: true`); the same id with another content is refused. A closed period is never corrected.',
  })
  @ApiBody({ schema: openApiSchema(usageCorrectionSchemaV1) as never })
  @ApiCreatedResponse({ description: '{correctionId, customerId, entitlementId, feature, periodStart, periodEnd, quantity, position, eventPosition, replayed}' })
  @ApiNotFoundResponse({ description: 'USAGE.UNKNOWN_CUSTOMER, USAGE.UNKNOWN_ENTITLEMENT' })
  @ApiConflictResponse({ description: 'USAGE.PERIOD_CLOSED: the period is closed (billed); corrections to it are not allowed' })
  @ApiUnprocessableEntityResponse({ description: 'USAGE.UNKNOWN_FEATURE, USAGE.NOT_A_PERIOD_START, USAGE.BEFORE_ENTITLEMENT, USAGE.TIME_IN_FUTURE, USAGE.CORRECTION_ID_REUSED' })
  correct(@Body(new JsonSchemaPipe(usageCorrectionSchemaV1)) body: UsageCorrectionV1, @Ctx() ctx: RequestContext): Promise<UsageCorrectionResultV1> {
    return this.commands.execute(new CorrectUsageCommand(body, ctx));
  }
}
