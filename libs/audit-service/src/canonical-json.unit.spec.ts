import { canonicalJson } from './canonical-json';

describe('canonical JSON (RFC 8785)', () => {
  it('sorts members by UTF-16 code units, drops whitespace, and writes numbers and strings as ECMAScript does', () => {
    // RFC 8785 §3.2.3's sorting example: the names sort as their UTF-16 code units.
    const sorting = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
    expect(canonicalJson(sorting)).toBe('{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}');
    // RFC 8785 §3.2.2's numbers.
    expect(canonicalJson([Number('333333333.33333329'), 1e30, 4.5, 2e-3, 0.000000000000000000000000001, -0])).toBe('[333333333.3333333,1e+30,4.5,0.002,1e-27,0]');
    expect(canonicalJson({ b: [true, null, { z: 1, a: '\u0007"\\' }], a: undefined })).toBe('{"b":[true,null,{"a":"\\u0007\\"\\\\","z":1}]}');
  });

  it('refuses what has no canonical form, naming where', () => {
    expect(() => canonicalJson({ a: [1, Number.NaN] })).toThrow('$.a[1]: NaN has no JSON form');
    expect(() => canonicalJson({ s: 'x\ud800' })).toThrow('$.s: a string with a lone surrogate');
    expect(() => canonicalJson({ n: 10n })).toThrow('$.n: a bigint has no JSON form');
  });
});
