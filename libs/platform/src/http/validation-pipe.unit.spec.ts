import { IsInt, IsOptional, IsString } from 'class-validator';
import { ApiException } from './api-error';
import { validationPipe } from './bootstrap';

class GrantDto {
  @IsString()
  customerId!: string;

  @IsOptional()
  @IsInt()
  quantity?: number;
}

const body = { type: 'body' as const, metatype: GrantDto, data: '' };
const refusal = async (value: unknown) => {
  try {
    await validationPipe().transform(value, body);
  } catch (err) {
    if (err instanceof ApiException) return err.body();
    throw err;
  }
  return 'accepted';
};

describe('the validation pipe every NestJS route uses', () => {
  it('refuses unknown keys, with their paths', async () => {
    expect(await refusal({ customerId: 'acme', extra: 1 })).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED', errors: [{ path: 'extra', constraint: 'whitelistValidation' }] });
  });

  it('refuses keys named like inherited members, which class-validator\'s whitelist lets through', async () => {
    // Found by the hostile-bodies fuzz test (apps/embedded): {"hasOwnProperty": "x"} reached the handler.
    for (const key of ['hasOwnProperty', 'toString', 'constructor', 'valueOf', 'isPrototypeOf', '__defineGetter__']) {
      expect({ key, answer: await refusal({ customerId: 'acme', [key]: 'x' }) }).toEqual({
        key,
        answer: { statusCode: 400, code: 'VALIDATION_FAILED', message: expect.any(String), errors: [{ path: key, constraint: 'whitelistValidation', message: `property ${key} should not exist` }] },
      });
    }
    expect(await refusal({ customerId: 'acme', nested: [{ toString: 1 }] })).toMatchObject({ errors: [{ path: 'nested[0].toString' }] });
  });

  it('refuses text with a lone surrogate, which has no canonical JSON form, naming the field', async () => {
    // Found by the hostile-bodies fuzz test (apps/embedded): a reason of "\ud800" was stored, and the audit feed stopped at it for good.
    expect(await refusal({ customerId: 'acme\ud800' })).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED', errors: [{ path: 'customerId', constraint: 'wellFormedUnicode' }] });
    expect(await refusal({ customerId: 'x\udc00y', quantity: 1 })).toMatchObject({ errors: [{ path: 'customerId' }] });
    expect(await refusal({ customerId: 'acme 🙂 ∀' })).toBe('accepted');
  });

  it('lets a well-formed body through', async () => {
    expect(await refusal({ customerId: 'acme', quantity: 2 })).toBe('accepted');
  });
});
