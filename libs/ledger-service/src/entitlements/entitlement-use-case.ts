import { Injectable } from '@nestjs/common';
import { Command } from '@nestjs/cqrs';
import type { CommandMetadata, EntitlementCommand } from '@el/domain';
import { Clock, IdGenerator, type RequestContext } from '@el/platform';
import { commandMetadata } from '../infrastructure/command-metadata';
import { EntitlementChanges, type EntitlementWriteResult, type WriteOptions } from './entitlement-changes';

/**
 * What every command that changes one entitlement carries: which entitlement,
 * and the request it came with (who, correlation, Idempotency-Key, If-Match).
 * Each use case extends it with its own fields, in its own folder.
 */
export abstract class EntitlementUseCaseCommand extends Command<EntitlementWriteResult> {
  constructor(
    readonly entitlementId: string,
    readonly context: RequestContext,
  ) {
    super();
  }
}

/**
 * The handler of one entitlement use case: it names the domain command the use
 * case issues; loading, deciding and appending with the expected revision are
 * the same for all (`EntitlementChanges`).
 */
@Injectable()
export abstract class EntitlementUseCaseHandler<C extends EntitlementUseCaseCommand> {
  constructor(
    protected readonly changes: EntitlementChanges,
    protected readonly clock: Clock,
    protected readonly ids: IdGenerator,
  ) {}

  /** The domain command this use case issues. */
  protected abstract toDomain(command: C, metadata: CommandMetadata): EntitlementCommand;

  execute(command: C): Promise<EntitlementWriteResult> {
    const metadata = commandMetadata(command.context, this.clock);
    return this.changes.apply(command.entitlementId, this.toDomain(command, metadata), writeOptions(command.context, this.ids));
  }
}

/** A request's write options: its Idempotency-Key names the command (so a retry writes nothing twice), its If-Match the revision. */
export function writeOptions(ctx: RequestContext, ids: IdGenerator): WriteOptions {
  return {
    commandId: ctx.idempotencyKey ? `idempotency:${ctx.idempotencyKey}` : ids.random(),
    viewer: ctx.principal,
    ...(ctx.ifMatch !== undefined ? { ifMatch: ctx.ifMatch } : {}),
    ...(ctx.requestHash !== undefined ? { requestHash: ctx.requestHash } : {}),
  };
}
