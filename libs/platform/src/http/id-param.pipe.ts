import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { ID_RULE, ID_SCHEMA } from '@el/contracts';
import { badRequest } from './api-error';

/** Identifiers everywhere (paths, bodies, messages) follow the contracts' one rule. */
export const ID_PATTERN = new RegExp(ID_SCHEMA.pattern);
export { ID_RULE };

/** Validates identifiers in paths (`/v1/entitlements/:id`) so a bad one is a 400 naming `params.id`. */
@Injectable()
export class IdParamPipe implements PipeTransform<string, string> {
  transform(value: string, meta: ArgumentMetadata): string {
    if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
      throw badRequest(`${meta.type === 'param' ? 'params' : meta.type}.${meta.data ?? 'id'}`, `must be ${ID_RULE}`, 'isId');
    }
    return value;
  }
}
