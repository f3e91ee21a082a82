import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyReply } from 'fastify';
import type { CommandMetadata, EntitlementCommand, EntitlementState } from '@el/domain';
import type { RequestContext } from '@el/platform';
import { ApplyEntitlementCommand } from './apply-entitlement-command';
import type { EntitlementWriteResponse } from './entitlement.view';
import { writeResponse } from './write-response';

/** What every entitlement write endpoint does after validating its body. */
@Injectable()
export class EntitlementApi {
  constructor(private readonly commands: CommandBus) {}

  async apply(
    entitlementId: string,
    ctx: RequestContext,
    reply: FastifyReply,
    build: (metadata: CommandMetadata, state: EntitlementState) => EntitlementCommand,
  ): Promise<EntitlementWriteResponse> {
    const result = await this.commands.execute(new ApplyEntitlementCommand(entitlementId, build, ctx));
    return writeResponse(reply, result);
  }
}
