import assert from 'node:assert/strict'
import {
  parseManifest, serializeManifest, manifestBlobs, manifestSize,
  MAX_MANIFEST_BYTES, MAX_LAYER_BYTES, MEDIA_DOCKER_MANIFEST, MEDIA_OCI_MANIFEST, MEDIA_DOCKER_CONFIG,
  type Manifest
} from '../../../src/store/manifest.js'
import { parseDigest } from '../../../src/store/digest.js'
import { isOllamadError } from '../../../src/errors.js'

const d = (c: string): string => `sha256:${c.repeat(64)}`
const MODEL = 'application/vnd.ollama.image.model'
const TEMPLATE = 'application/vnd.ollama.image.template'

const doc = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  schemaVersion: 2,
  mediaType: MEDIA_DOCKER_MANIFEST,
  config: { mediaType: MEDIA_DOCKER_CONFIG, digest: d('c'), size: 485 },
  layers: [
    { mediaType: MODEL, digest: d('a'), size: 4661211808 },
    { mediaType: TEMPLATE, digest: d('b'), size: 1429 }
  ],
  ...over
})
const bytes = (v: unknown): Buffer => Buffer.from(JSON.stringify(v))

const rejectsManifest = (b: Uint8Array, message?: RegExp): void => {
  assert.throws(() => parseManifest(b), (e: unknown) => {
    assert.ok(isOllamadError(e, 'MANIFEST_INVALID'), String(e))
    if (message !== undefined) assert.match(e.message, message)
    return true
  })
}

const layerWith = (over: Record<string, unknown>): Record<string, unknown> =>
  doc({ layers: [{ mediaType: MODEL, digest: d('a'), size: 1, ...over }] })

describe('store/manifest', () => {
  describe('parseManifest', () => {
    it('reads a docker v2 manifest: config, layers in order, sizes and digests', () => {
      const m = parseManifest(bytes(doc()))
      assert.deepEqual(m, {
        schemaVersion: 2,
        mediaType: MEDIA_DOCKER_MANIFEST,
        config: { mediaType: MEDIA_DOCKER_CONFIG, digest: d('c'), size: 485 },
        layers: [
          { mediaType: MODEL, digest: d('a'), size: 4661211808 },
          { mediaType: TEMPLATE, digest: d('b'), size: 1429 }
        ]
      })
    })

    it('accepts the OCI image manifest media type', () => {
      assert.equal(parseManifest(bytes(doc({ mediaType: MEDIA_OCI_MANIFEST }))).mediaType, MEDIA_OCI_MANIFEST)
    })

    it('defaults a missing mediaType to docker v2', () => {
      const { mediaType: _, ...rest } = doc()
      assert.equal(parseManifest(bytes(rest)).mediaType, MEDIA_DOCKER_MANIFEST)
    })

    it('accepts a manifest with no layers', () => {
      assert.deepEqual(parseManifest(bytes(doc({ layers: [] }))).layers, [])
    })

    it('normalises sha256- digests to sha256: and keeps a layer\'s "from"', () => {
      const m = parseManifest(bytes(layerWith({ digest: `sha256-${'a'.repeat(64)}`, from: 'llama3:latest' })))
      assert.deepEqual(m.layers, [{ mediaType: MODEL, digest: d('a'), size: 1, from: 'llama3:latest' }])
    })

    it('reads bytes from a view into a larger buffer', () => {
      const inner = bytes(doc())
      const outer = Buffer.concat([Buffer.from('xxxx'), inner, Buffer.from('yyyy')])
      assert.equal(parseManifest(outer.subarray(4, 4 + inner.byteLength)).layers.length, 2)
    })

    it('rejects schema version 1 and a non-numeric schema version', () => {
      rejectsManifest(bytes(doc({ schemaVersion: 1 })), /schemaVersion/)
      rejectsManifest(bytes(doc({ schemaVersion: '2' })), /schemaVersion/)
    })

    it('rejects manifest lists and other media types', () => {
      rejectsManifest(bytes(doc({ mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json' })), /media type/)
      rejectsManifest(bytes(doc({ mediaType: 'application/vnd.oci.image.index.v1+json' })), /media type/)
    })

    it('rejects more than 4 MiB before parsing', () => {
      const big = Buffer.alloc(MAX_MANIFEST_BYTES + 1, 0x20)
      const body = bytes(doc())
      body.copy(big)
      rejectsManifest(big, /too large/)
    })

    it('accepts a manifest of exactly 4 MiB', () => {
      const exact = Buffer.alloc(MAX_MANIFEST_BYTES, 0x20)
      bytes(doc()).copy(exact)
      assert.equal(parseManifest(exact).layers.length, 2)
    })

    it('rejects bytes that are not JSON, and JSON that is not an object', () => {
      rejectsManifest(Buffer.from('not json'), /not JSON/)
      rejectsManifest(Buffer.from('{"schemaVersion":2,'), /not JSON/)
      rejectsManifest(Buffer.from(''), /not JSON/)
      rejectsManifest(Buffer.from('null'), /not an object/)
      rejectsManifest(Buffer.from('"x"'), /not an object/)
    })

    it('rejects bad digests in layers and in the config', () => {
      rejectsManifest(bytes(layerWith({ digest: 'sha256:../../etc/passwd' })), /digest/)
      rejectsManifest(bytes(layerWith({ digest: d('A') })), /digest/)
      rejectsManifest(bytes(layerWith({ digest: `sha512:${'a'.repeat(128)}` })), /digest/)
      rejectsManifest(bytes(layerWith({ digest: undefined })), /digest/)
      rejectsManifest(bytes(doc({ config: { mediaType: MEDIA_DOCKER_CONFIG, digest: 'sha256:abc', size: 1 } })), /config/)
    })

    it('rejects negative, fractional, string, unsafe and absurdly large sizes', () => {
      for (const size of [-1, 1.5, '10', null, 2 ** 53, MAX_LAYER_BYTES + 1]) {
        rejectsManifest(bytes(layerWith({ size })), /size/)
      }
    })

    it('accepts sizes from 0 up to the layer limit', () => {
      assert.equal(parseManifest(bytes(layerWith({ size: 0 }))).layers[0]?.size, 0)
      assert.equal(parseManifest(bytes(layerWith({ size: MAX_LAYER_BYTES }))).layers[0]?.size, MAX_LAYER_BYTES)
    })

    it('rejects a missing config, missing layers, and layers that are not objects', () => {
      const { config: _, ...noConfig } = doc()
      rejectsManifest(bytes(noConfig), /config/)
      rejectsManifest(bytes(doc({ layers: undefined })), /layers/)
      rejectsManifest(bytes(doc({ layers: {} })), /layers/)
      rejectsManifest(bytes(doc({ layers: ['x'] })), /layer 0/)
      rejectsManifest(bytes(doc({ layers: [null] })), /layer 0/)
    })

    it('rejects a layer without a string mediaType, or with one over 255 characters', () => {
      rejectsManifest(bytes(layerWith({ mediaType: 7 })), /mediaType/)
      rejectsManifest(bytes(layerWith({ mediaType: 'x'.repeat(256) })), /mediaType/)
    })

    it('accepts 1024 layers and rejects 1025', () => {
      const layers = (n: number): unknown[] => Array.from({ length: n }, () => ({ mediaType: MODEL, digest: d('a'), size: 1 }))
      assert.equal(parseManifest(bytes(doc({ layers: layers(1024) }))).layers.length, 1024)
      rejectsManifest(bytes(doc({ layers: layers(1025) })), /too many/)
    })
  })

  describe('serializeManifest', () => {
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_DOCKER_MANIFEST,
      config: { mediaType: MEDIA_DOCKER_CONFIG, digest: parseDigest(d('c')), size: 485 },
      layers: [
        { mediaType: MODEL, digest: parseDigest(d('a')), size: 4661211808, from: 'llama3:latest' },
        { mediaType: TEMPLATE, digest: parseDigest(d('b')), size: 1429 }
      ]
    }

    it('writes the bytes Ollama\'s json.Encoder writes: compact, fixed key order, one trailing newline', () => {
      const expected =
        `{"schemaVersion":2,"mediaType":"${MEDIA_DOCKER_MANIFEST}",` +
        `"config":{"mediaType":"${MEDIA_DOCKER_CONFIG}","digest":"${d('c')}","size":485},` +
        `"layers":[{"mediaType":"${MODEL}","digest":"${d('a')}","size":4661211808,"from":"llama3:latest"},` +
        `{"mediaType":"${TEMPLATE}","digest":"${d('b')}","size":1429}]}\n`
      assert.equal(Buffer.from(serializeManifest(manifest)).toString('utf8'), expected)
    })

    it('keeps that key order whatever order the object\'s keys were set in', () => {
      const shuffled = {
        layers: [{ size: 1429, from: 'x', digest: parseDigest(d('b')), mediaType: TEMPLATE }],
        config: { size: 485, digest: parseDigest(d('c')), mediaType: MEDIA_DOCKER_CONFIG },
        mediaType: MEDIA_DOCKER_MANIFEST,
        schemaVersion: 2
      } as unknown as Manifest
      const text = Buffer.from(serializeManifest(shuffled)).toString('utf8')
      assert.equal(text,
        `{"schemaVersion":2,"mediaType":"${MEDIA_DOCKER_MANIFEST}",` +
        `"config":{"mediaType":"${MEDIA_DOCKER_CONFIG}","digest":"${d('c')}","size":485},` +
        `"layers":[{"mediaType":"${TEMPLATE}","digest":"${d('b')}","size":1429,"from":"x"}]}\n`)
    })

    it('escapes <, > and & as Go does', () => {
      const m: Manifest = { ...manifest, layers: [{ mediaType: 'a<b>&c', digest: parseDigest(d('a')), size: 1 }] }
      const text = Buffer.from(serializeManifest(m)).toString('utf8')
      assert.ok(text.includes('"mediaType":"a\\u003cb\\u003e\\u0026c"'), text)
      assert.ok(!text.includes('<'))
    })

    it('round-trips through parseManifest', () => {
      assert.deepEqual(parseManifest(serializeManifest(manifest)), manifest)
    })
    it('leaves out an empty "from", as Go\'s omitempty does', () => {
      const m = parseManifest(bytes(layerWith({ from: '' })))
      assert.ok(!Buffer.from(serializeManifest(m)).toString('utf8').includes('"from"'))
    })
  })

  describe('manifestBlobs and manifestSize', () => {
    it('lists the config first and each digest once, and sums their sizes', () => {
      const m = parseManifest(bytes(doc({
        layers: [
          { mediaType: MODEL, digest: d('a'), size: 100 },
          { mediaType: TEMPLATE, digest: d('b'), size: 10 },
          { mediaType: MODEL, digest: d('a'), size: 100 }
        ]
      })))
      assert.deepEqual(manifestBlobs(m).map(l => l.digest), [d('c'), d('a'), d('b')])
      assert.equal(manifestSize(m), 485 + 100 + 10)
    })
  })
})
