import { Controller, Get } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Access } from '@el/platform';
import { StoreVerificationView, type StoreVerification } from '../store-verifications/store-verification.view';
import { GetLatestStoreVerificationQuery } from './get-latest-store-verification.query';

@ApiTags('audit')
@Controller('v1/audit/verifications')
export class GetLatestStoreVerificationController {
  constructor(private readonly queries: QueryBus) {}

  @Get('latest')
  @Access('audit:read')
  @ApiOperation({ summary: 'The newest store verification: running with its progress, or passed / failed with its report, or error', description: 'Runs are kept in memory: a restart of the service forgets them.' })
  @ApiOkResponse({ type: StoreVerificationView })
  @ApiNotFoundResponse({ description: 'AUDIT.NO_VERIFICATION: none has run since the service started' })
  latest(): Promise<StoreVerification> {
    return this.queries.execute(new GetLatestStoreVerificationQuery());
  }
}
