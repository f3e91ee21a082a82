import { validateSync } from 'class-validator';
import { IsInstant } from './field-rules';

class Params {
  @IsInstant() at!: unknown;
}

const problems = (at: unknown) => validateSync(Object.assign(new Params(), { at })).map((e) => Object.keys(e.constraints ?? {}));

describe('IsInstant', () => {
  it.each(['2026-11-01T00:00:00Z', '2026-11-01T02:00:00+02:00', '2026-11-01T00:00:00.123-05:30'])('accepts %s', (at) => {
    expect(problems(at)).toEqual([]);
  });

  it.each([
    ['a date without a time', '2026-11-01'],
    ['a date-time without an offset', '2026-11-01T00:00:00'],
    ['a + offset decoded to a space', '2026-11-01T00:00:00 02:00'],
    ['a day that does not exist', '2026-02-30T00:00:00Z'],
    ['a leap second, which Date cannot hold', '2026-12-31T23:59:60Z'],
    ['more than 40 characters', `2026-11-01T00:00:00.${'1'.repeat(30)}Z`],
    ['a number', 1793491200000],
    ['a list', ['2026-11-01T00:00:00Z']],
  ])('refuses %s', (_name, at) => {
    expect(problems(at)).toEqual([['isInstant']]);
  });
});
