import { InitialReadModels1764300000000 } from './1764300000000-initial-read-models';
import { AccessRequestFulfilment1764900000000 } from './1764900000000-access-request-fulfilment';
import { Dunning1765400000000 } from './1765400000000-dunning';
import { CustomerSearch1766100000000 } from './1766100000000-customer-search';
import { ListIndexes1766800000000 } from './1766800000000-list-indexes';

/** Every read-model migration, oldest first. */
export const READ_MODEL_MIGRATIONS = [InitialReadModels1764300000000, AccessRequestFulfilment1764900000000, Dunning1765400000000, CustomerSearch1766100000000, ListIndexes1766800000000];
