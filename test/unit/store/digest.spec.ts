import assert from 'node:assert/strict'
import { parseDigest, isDigest, digestHex, digestFileName, digestFromHex } from '../../../src/store/digest.js'
import { isOllamadError } from '../../../src/errors.js'

const HEX = '0123456789abcdef'.repeat(4)

const rejectsDigest = (s: unknown): void => {
  assert.equal(isDigest(s), false, `isDigest(${JSON.stringify(s)})`)
  assert.throws(() => parseDigest(s), (e: unknown) => {
    assert.ok(isOllamadError(e, 'INVALID_DIGEST'), String(e))
    return true
  }, `expected ${JSON.stringify(s)} to be rejected`)
}

describe('store/digest', () => {
  it('accepts sha256:<64 lowercase hex> and keeps that form', () => {
    assert.equal(isDigest(`sha256:${HEX}`), true)
    assert.equal(parseDigest(`sha256:${HEX}`), `sha256:${HEX}`)
  })

  it('accepts the file-name form sha256-<hex> and returns the sha256: form', () => {
    assert.equal(isDigest(`sha256-${HEX}`), true)
    assert.equal(parseDigest(`sha256-${HEX}`), `sha256:${HEX}`)
  })

  it('rejects uppercase hex and an uppercase algorithm (the rule is lowercase only)', () => {
    rejectsDigest(`sha256:${HEX.toUpperCase()}`)
    rejectsDigest(`sha256:${HEX.slice(0, 63)}A`)
    rejectsDigest(`SHA256:${HEX}`)
  })

  it('rejects 63 and 65 hex digits', () => {
    rejectsDigest(`sha256:${HEX.slice(0, 63)}`)
    rejectsDigest(`sha256:${HEX}0`)
  })

  it('rejects path traversal and separators', () => {
    rejectsDigest('sha256:../../etc/passwd')
    rejectsDigest(`sha256:${HEX}/../x`)
    rejectsDigest(`sha256-${HEX.slice(0, 62)}/.`)
    rejectsDigest(`../sha256-${HEX}`)
  })

  it('rejects other algorithms and missing or odd separators', () => {
    rejectsDigest(`sha512:${HEX}${HEX}`)
    rejectsDigest(`md5:${HEX.slice(0, 32)}`)
    rejectsDigest(HEX)
    rejectsDigest(`sha256${HEX}`)
    rejectsDigest(`sha256_${HEX}`)
    rejectsDigest(`sha256::${HEX}`)
  })

  it('rejects surrounding whitespace, a trailing newline and non-hex letters', () => {
    rejectsDigest(` sha256:${HEX}`)
    rejectsDigest(`sha256:${HEX}\n`)
    rejectsDigest(`sha256:${HEX.slice(0, 63)}g`)
  })

  it('rejects values that are not strings', () => {
    for (const v of [undefined, null, 1, {}, [`sha256:${HEX}`], Buffer.from(`sha256:${HEX}`)]) rejectsDigest(v)
  })

  it('digestFileName gives Ollama\'s blob file name sha256-<hex>', () => {
    assert.equal(digestFileName(parseDigest(`sha256:${HEX}`)), `sha256-${HEX}`)
    assert.equal(digestFileName(parseDigest(`sha256-${HEX}`)), `sha256-${HEX}`)
  })

  it('digestHex and digestFromHex convert between the digest and its bare hex', () => {
    const d = parseDigest(`sha256:${HEX}`)
    assert.equal(digestHex(d), HEX)
    assert.equal(digestFromHex(HEX), d)
    assert.throws(() => digestFromHex('../x'), (e: unknown) => isOllamadError(e, 'INVALID_DIGEST'))
  })
})
