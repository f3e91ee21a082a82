import { Controller, HttpCode, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiAcceptedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Access, Ctx, type RequestContext } from '@el/platform';
import { StoreVerificationView, type StoreVerification } from '../store-verifications/store-verification.view';
import { StartStoreVerificationCommand } from './start-store-verification.command';

@ApiTags('audit')
@Controller('v1/audit/verifications')
export class StartStoreVerificationController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(202)
  @Access('audit:read')
  @ApiOperation({
    summary: 'Start comparing the event store with the audit store (check-store) in the background; while one runs, answers that one',
    description:
      'Every event, as stored, against the leaf the audit log recorded for it; every entry of the audit store against its own leaf, columns and history references; every signed tree head stored when the run begins against the stored leaves and the audit key. ' +
      'One run at a time. Follow it with GET /v1/audit/verifications/latest: its progress while running, then passed or failed with the report (findings name the store, the position and the problem).',
  })
  @ApiAcceptedResponse({ type: StoreVerificationView, description: 'The run started now, or the one already running' })
  start(@Ctx() ctx: RequestContext): Promise<StoreVerification> {
    return this.commands.execute(new StartStoreVerificationCommand(ctx.principal));
  }
}
