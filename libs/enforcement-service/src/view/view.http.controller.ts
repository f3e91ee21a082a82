import { Controller, Get, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { EntitlementV1 } from '@el/contracts';
import { Access, CodedError, Ctx, IdParamPipe, seesCustomer, type RequestContext } from '@el/platform';
import { EnforcementViewRunner } from './view-runner';
import { notHeldError } from '../check/check.routes';

interface ViewItems {
  /** The view's ledger position. */
  readonly position: number;
  readonly items: readonly EntitlementV1[];
}

/**
 * What the enforcement view holds, by customer, entitlement, user and device:
 * the states checks are decided from (ledger.entitlements.v1 shape).
 */
@ApiTags('enforcement')
@Access('view:read')
@Controller('v1/view')
export class ViewController {
  constructor(private readonly runner: EnforcementViewRunner) {}

  @Get('customers/:customerId/entitlements')
  @ApiOperation({ summary: "A customer's entitlements as the enforcement view holds them" })
  @ApiOkResponse({ description: '{position, items: EntitlementV1[]}' })
  customer(@Param('customerId', IdParamPipe) customerId: string, @Ctx() ctx: RequestContext): ViewItems {
    if (!seesCustomer(ctx.principal, customerId)) throw new CodedError('CUSTOMER.NOT_FOUND', `customer ${customerId} is not visible to this credential`);
    const elsewhere = this.runner.notHeld(customerId);
    if (elsewhere) throw notHeldError(elsewhere);
    return { position: this.runner.view.position, items: this.runner.view.ofCustomer(customerId) };
  }

  @Get('users/:userId/entitlements')
  @ApiOperation({ summary: 'The entitlements a user holds a seat on' })
  @ApiOkResponse({ description: '{position, items: EntitlementV1[]}' })
  user(@Param('userId', IdParamPipe) userId: string, @Ctx() ctx: RequestContext): ViewItems {
    return { position: this.runner.view.position, items: this.runner.view.ofUser(userId).filter((e) => seesCustomer(ctx.principal, e.customerId)) };
  }

  @Get('devices/:deviceId/entitlements')
  @ApiOperation({ summary: 'The entitlements a device is activated on' })
  @ApiOkResponse({ description: '{position, items: EntitlementV1[]}' })
  device(@Param('deviceId', IdParamPipe) deviceId: string, @Ctx() ctx: RequestContext): ViewItems {
    return { position: this.runner.view.position, items: this.runner.view.ofDevice(deviceId).filter((e) => seesCustomer(ctx.principal, e.customerId)) };
  }

  @Get('entitlements/:id')
  @ApiOperation({ summary: 'One entitlement as the enforcement view holds it' })
  @ApiOkResponse({ description: 'EntitlementV1 with the view position' })
  @ApiNotFoundResponse({ description: 'ENTITLEMENT.NOT_FOUND: not in the view (yet)' })
  entitlement(@Param('id', IdParamPipe) id: string, @Ctx() ctx: RequestContext): EntitlementV1 & { viewPosition: number } {
    const e = this.runner.view.entitlement(id);
    if (!e || !seesCustomer(ctx.principal, e.customerId)) throw new CodedError('ENTITLEMENT.NOT_FOUND', `entitlement ${id} is not in the enforcement view (position ${this.runner.view.position})`);
    return { ...e, viewPosition: this.runner.view.position };
  }
}
