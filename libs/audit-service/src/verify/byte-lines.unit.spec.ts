import { byteLines } from './verify-export';

async function* chunks(parts: readonly Buffer[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield p;
}

async function linesOf(parts: readonly Buffer[]): Promise<string[]> {
  const out: string[] = [];
  for await (const l of byteLines(chunks(parts))) out.push(l.toString('utf8'));
  return out;
}

describe('byteLines', () => {
  it('gives the same lines however the bytes are cut into chunks (multi-byte characters included)', async () => {
    const text = '{"a":1}\n\nsecond line ☃ 𝄞\nthird\r\nlast without newline';
    const bytes = Buffer.from(text);
    const expected = text.split('\n');
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(await linesOf([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(expected);
    }
    const bySingleBytes = Array.from(bytes, (b) => Buffer.of(b));
    expect(await linesOf(bySingleBytes)).toEqual(expected);
    expect(await linesOf([Buffer.from('one\ntwo\n')])).toEqual(['one', 'two']);
  });
});
