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

describe('canonical JSON: the fast path and the slow path agree', () => {
  it('writes objects with array-index names (which JavaScript orders numerically) by UTF-16 order too, and keeps a member named __proto__', () => {
    expect(canonicalJson({ b: 1, 10: 'ten', 9: 'nine', a: [{ 2: 0, 1: 0 }] })).toBe('{"10":"ten","9":"nine","a":[{"1":0,"2":0}],"b":1}');
    expect(canonicalJson(JSON.parse('{"__proto__":{"x":1},"a":2}'))).toBe('{"__proto__":{"x":1},"a":2}');
    const deep = { z: { y: [1, 'two', { c: null, b: true, a: -0 }] }, '€': 1e21, é: 1e-7 };
    expect(canonicalJson(deep)).toBe('{"z":{"y":[1,"two",{"a":0,"b":true,"c":null}]},"é":1e-7,"€":1e+21}');
  });
});
