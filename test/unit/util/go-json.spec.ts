import assert from 'node:assert/strict'
import { goJson, goJsonLine } from '../../../src/util/go-json.js'

describe('util/go-json', () => {
  it('writes compact JSON like JSON.stringify for plain values', () => {
    assert.equal(goJson({ a: 1, b: [true, null, 'x'], c: { d: 1.5 } }), '{"a":1,"b":[true,null,"x"],"c":{"d":1.5}}')
  })

  it('escapes <, > and & as \\u003c, \\u003e and \\u0026, as Go\'s encoding/json does', () => {
    assert.equal(goJson({ stop: ['<|eot|>', 'a&b'] }), '{"stop":["\\u003c|eot|\\u003e","a\\u0026b"]}')
  })

  it('escapes U+2028 and U+2029', () => {
    assert.equal(goJson('a\u2028b\u2029c'), '"a\\u2028b\\u2029c"')
  })

  it('keeps other non-ASCII text as UTF-8, as Go does', () => {
    assert.equal(goJson('héllo 模型'), '"héllo 模型"')
  })

  it('escapes characters in keys too', () => {
    assert.equal(goJson({ '<k>': 1 }), '{"\\u003ck\\u003e":1}')
  })

  it('still parses back to the same value', () => {
    const v = { t: '<a href="x">&</a>\u2028', n: [1, 2] }
    assert.deepEqual(JSON.parse(goJson(v)), v)
  })

  it('goJsonLine adds the newline Go\'s json.Encoder writes', () => {
    assert.equal(goJsonLine({ a: '<' }), '{"a":"\\u003c"}\n')
  })
})
