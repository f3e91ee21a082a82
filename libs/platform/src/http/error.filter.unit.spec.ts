import { CodedError, validationFailed } from '../errors/coded-error';
import { ApiException } from './api-error';
import { ApiErrorFilter } from './error.filter';

describe('ApiErrorFilter: codes become statuses through the table, and only there', () => {
  const filter = new ApiErrorFilter({ 'SEAT.NONE_AVAILABLE': 409, VALIDATION_FAILED: 400 });

  it('answers a coded error with its row, details and field errors', () => {
    expect(filter.toBody(new CodedError('SEAT.NONE_AVAILABLE', 'all seats taken', { seats: 3 }))).toEqual({ statusCode: 409, code: 'SEAT.NONE_AVAILABLE', message: 'all seats taken', details: { seats: 3 } });
    expect(filter.toBody(validationFailed([{ path: 'cursor', message: 'cursor is bad', constraint: 'isCursor' }]))).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED', errors: [{ path: 'cursor' }] });
    // Any error with a dotted code is ours (DomainError, the store's errors), whatever its class.
    expect(filter.toBody(Object.assign(new Error('x'), { code: 'SEAT.NONE_AVAILABLE' })).statusCode).toBe(409);
  });

  it('answers 500 for a code without a row, and never mistakes Node or Fastify codes for ours', () => {
    expect(filter.toBody(new CodedError('SEAT.UNHEARD_OF', 'x'))).toMatchObject({ statusCode: 500, code: 'INTERNAL' });
    expect(filter.toBody(Object.assign(new Error('no such file'), { code: 'ENOENT' }))).toMatchObject({ statusCode: 500, code: 'INTERNAL' });
    expect(filter.toBody(Object.assign(new Error('body too large'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }))).toMatchObject({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE' });
  });

  it('keeps the HTTP edge\'s own answers (malformed requests)', () => {
    expect(filter.toBody(new ApiException(400, 'VALIDATION_FAILED', 'bad', undefined, [{ path: 'a', message: 'a bad', constraint: 'x' }]))).toMatchObject({ statusCode: 400, errors: [{ path: 'a' }] });
  });

  it('answers 503 (retry) when a dependency cannot be reached, as the driver reports it, and 500 for other failures', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    // TypeORM wraps the driver's error; PostgreSQL starting up answers SQLSTATE 57P03.
    const wrapped = Object.assign(new Error('query failed'), { name: 'QueryFailedError', driverError: Object.assign(new Error('the database system is starting up'), { code: '57P03' }) });
    for (const e of [refused, wrapped, new Error('Connection terminated unexpectedly')]) {
      expect(filter.toBody(e)).toMatchObject({ statusCode: 503, code: 'DEPENDENCY.UNAVAILABLE', details: { retryAfterSeconds: 1 } });
    }
    expect(filter.toBody(Object.assign(new Error('duplicate key'), { name: 'QueryFailedError', driverError: Object.assign(new Error('duplicate key'), { code: '23505' }) }))).toMatchObject({ statusCode: 500, code: 'INTERNAL' });
  });
});
