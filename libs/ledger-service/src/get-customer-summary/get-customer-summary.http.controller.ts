import { Controller, Get, Param, Query as QueryParams } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiException, IdParamPipe } from '@el/platform';
import { ReadModelQueries, ReadYourWrites } from '@el/read-models';
import { ReadParams } from '../list-entitlements/read-params';

@ApiTags('entitlements')
@Controller('v1/customers')
export class GetCustomerSummaryController {
  constructor(
    private readonly queries: ReadModelQueries,
    private readonly ryw: ReadYourWrites,
  ) {}

  @Get(':customerId/summary')
  @ApiOperation({ summary: 'A customer at a glance: entitlements by status, seats bought and assigned, products' })
  @ApiOkResponse({ description: '{customerId, entitlements, active, suspended, expired, revoked, seats, seatsAssigned, products, position}' })
  @ApiNotFoundResponse({ description: 'CUSTOMER.NOT_FOUND' })
  async get(@Param('customerId', IdParamPipe) customerId: string, @QueryParams() p: ReadParams) {
    const position = await this.ryw.require(p.minPosition);
    const summary = await this.queries.customerSummary(customerId);
    if (!summary) throw new ApiException(404, 'CUSTOMER.NOT_FOUND', `customer ${customerId} owns nothing yet`);
    const { lastPosition: _l, ...rest } = summary;
    return { ...rest, position };
  }
}
