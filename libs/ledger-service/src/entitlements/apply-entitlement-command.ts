import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { CommandMetadata, EntitlementCommand, EntitlementState } from '@el/domain';
import { Clock, IdGenerator, type RequestContext } from '@el/platform';
import { commandMetadata } from '../infrastructure/command-metadata';
import { EntitlementWriter, type WriteResult } from './entitlement-writer';

/**
 * Any change to one entitlement issued through the API. Each use case builds
 * the domain command from the request; this one handler runs them all through
 * the same load → decide → append path.
 */
export class ApplyEntitlementCommand extends Command<WriteResult> {
  constructor(
    readonly entitlementId: string,
    readonly build: (metadata: CommandMetadata, state: EntitlementState) => EntitlementCommand,
    readonly ctx: RequestContext,
    /** Overrides the command id (and so the event ids), e.g. for commands derived from an order. */
    readonly commandId?: string,
  ) {
    super();
  }
}

@CommandHandler(ApplyEntitlementCommand)
export class ApplyEntitlementCommandHandler implements ICommandHandler<ApplyEntitlementCommand, WriteResult> {
  constructor(
    private readonly writer: EntitlementWriter,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  execute(c: ApplyEntitlementCommand): Promise<WriteResult> {
    const metadata = commandMetadata(c.ctx, this.clock);
    const commandId = c.commandId ?? (c.ctx.idempotencyKey ? `idempotency:${c.ctx.idempotencyKey}` : this.ids.random());
    return this.writer.execute(c.entitlementId, (state) => c.build(metadata, state), {
      commandId,
      ...(c.ctx.ifMatch !== undefined ? { ifMatch: c.ctx.ifMatch } : {}),
      ...(c.ctx.requestHash !== undefined ? { requestHash: c.ctx.requestHash } : {}),
    });
  }
}
