import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { summarize } from '../errors/coded-error';
import { compileSchema, type SchemaValidator } from '../validation/json-schema';
import { ApiException, tooDeep } from './api-error';

/**
 * Validates a body against a JSON Schema from `@el/contracts` — the same
 * schema that validates the same shape on Kafka — so a shape is defined once.
 * `@Body(new JsonSchemaPipe(erpOrderSchemaV1)) order: ErpOrderV1`.
 */
@Injectable()
export class JsonSchemaPipe implements PipeTransform<unknown, unknown> {
  private readonly validate: SchemaValidator;

  constructor(schema: object) {
    this.validate = compileSchema(schema);
  }

  transform(value: unknown, meta: ArgumentMetadata): unknown {
    tooDeep(value, meta.type);
    const problems = this.validate(value);
    if (problems.length > 0) throw new ApiException(400, 'VALIDATION_FAILED', summarize(problems), undefined, problems);
    return value;
  }
}
