import { Controller, Get, Param, ParseIntPipe } from '@nestjs/common';
import { badRequest, Access } from '@el/platform';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { PublishedCatalog } from '@el/domain';
import { CatalogService } from '../infrastructure/catalog.service';

@ApiTags('catalog')
@Access('catalog:read')
@Controller('v1/catalog')
export class GetCatalogController {
  constructor(private readonly catalog: CatalogService) {}

  @Get()
  @ApiOperation({ summary: 'The catalog in force, with its version, and the versions published before it' })
  @ApiOkResponse({ description: '{version, hash, label, products, addOns, versions}' })
  current() {
    const c = this.catalog.current();
    return { ...describe(c), versions: this.catalog.versions().map((v) => ({ version: v.version, hash: v.hash, label: v.catalog.label })) };
  }

  @Get('versions/:version')
  @ApiOperation({ summary: 'A past catalog version: explains decisions made while it was in force' })
  @ApiNotFoundResponse({ description: 'CATALOG_VERSION.NOT_FOUND' })
  version(@Param('version', new ParseIntPipe({ exceptionFactory: () => badRequest('params.version', 'must be an integer', 'isInt') })) version: number) {
    return describe(this.catalog.version(version));
  }
}

function describe(c: PublishedCatalog) {
  return { version: c.version, hash: c.hash, label: c.catalog.label, products: c.catalog.products, addOns: c.catalog.addOns };
}
