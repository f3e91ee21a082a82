import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsInt, IsNotEmpty, IsString, Matches, Max, MaxLength, Min, ValidateBy, ValidateIf } from 'class-validator';
import { ID_SCHEMA, INSTANT_SCHEMA } from '@el/contracts';
import { compileSchema } from '../validation/json-schema';
import { ID_PATTERN, ID_RULE } from './id-param.pipe';

/**
 * Field rules for request bodies. Everything a caller sends may end up in the
 * immutable log, so every string has a maximum length, and `null` is a wrong
 * type like any other (class-validator's @IsOptional would let it through).
 */

/** The field may be left out; when present (null included) it is validated. */
export const OptionalField = () => ValidateIf((_object, value) => value !== undefined);

/** An identifier: 1–128 characters, letters, digits and . _ : @ -. */
export const IsIdentifier = (field: string) => applyDecorators(IsString(), Matches(ID_PATTERN, { message: `${field} must be ${ID_RULE}` }));

const instantShape = compileSchema(INSTANT_SCHEMA).isValid;

/**
 * An instant as the contracts define one (`INSTANT_SCHEMA`): an RFC 3339 date-time with its
 * offset, at most 40 characters, that is also a point in time JavaScript can compute with (RFC
 * 3339 admits a leap second, `…T23:59:60Z`, which Date cannot represent). In a query string a
 * `+` offset must be sent as `%2B`: a bare `+` decodes to a space.
 */
export const IsInstant = () =>
  ValidateBy({
    name: 'isInstant',
    validator: {
      validate: (value: unknown) => instantShape(value) && !Number.isNaN(Date.parse(value as string)),
      defaultMessage: () => '$property must be an ISO-8601 date-time with its offset, like 2026-11-01T00:00:00Z (a + offset as %2B in a URL)',
    },
  });

/**
 * A whole number in a query string, written in decimal digits only: "0x10",
 * "1e3", "+1", " 1" and an empty value stay strings and are refused (a plain
 * Number() conversion would read them as numbers).
 */
export const IsQueryInteger = (min: number, max: number) =>
  applyDecorators(
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^-?(0|[1-9][0-9]{0,15})$/.test(value) ? Number(value) : value)),
    IsInt(),
    Min(min),
    Max(max),
  );

/** Longest SKU a request may name (catalog SKUs are much shorter). */
export const MAX_SKU_LENGTH = 64;
export const IsSku = () => applyDecorators(IsString(), IsNotEmpty(), MaxLength(MAX_SKU_LENGTH));

/** Free text a person writes (a reason, a comment): at most `max` characters. */
export const IsText = (max: number, options: { required?: boolean } = {}) =>
  options.required ? applyDecorators(IsString(), IsNotEmpty(), MaxLength(max)) : applyDecorators(IsString(), MaxLength(max));

/** What the OpenAPI document says of those fields (spread into @ApiProperty), so it shows the limits the server enforces. */
export const ID_API = { type: String, pattern: ID_SCHEMA.pattern, maxLength: 128 } as const;
export const INSTANT_API = { type: String, format: 'date-time', maxLength: INSTANT_SCHEMA.maxLength } as const;
export const SKU_API = { type: String, minLength: 1, maxLength: MAX_SKU_LENGTH } as const;
export const textApi = (maxLength: number) => ({ type: String, maxLength }) as const;
export const integerApi = (minimum: number, maximum?: number) => ({ type: 'integer', minimum, ...(maximum !== undefined ? { maximum } : {}) }) as const;
