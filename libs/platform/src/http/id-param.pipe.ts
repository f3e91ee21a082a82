import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { badRequest } from './api-error';

export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
export const ID_RULE = '1-128 characters: letters, digits and . _ : @ -, starting with a letter or digit';

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
