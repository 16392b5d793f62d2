import assert from 'node:assert/strict'
import {
  parseModelName, displayName, fullName, nameKey, isValidModelName, type ModelName
} from '../../../src/store/names.js'
import { isOllamadError } from '../../../src/errors.js'

const name = (host: string, namespace: string, model: string, tag: string): ModelName => ({ host, namespace, model, tag })

const rejectsName = (input: unknown): void => {
  assert.throws(() => parseModelName(input), (e: unknown) => {
    assert.ok(isOllamadError(e, 'INVALID_NAME'), `expected INVALID_NAME for ${JSON.stringify(input)}, got ${String(e)}`)
    return true
  }, `expected ${JSON.stringify(input)} to be rejected`)
  assert.equal(isValidModelName(input), false)
}

describe('store/names', () => {
  describe('parseModelName fills in Ollama\'s defaults', () => {
    it('turns a bare model into registry.ollama.ai/library/<model>:latest', () => {
      assert.deepEqual(parseModelName('llama3'), name('registry.ollama.ai', 'library', 'llama3', 'latest'))
    })

    it('keeps an explicit tag with dots', () => {
      assert.deepEqual(parseModelName('llama3.2:1.5b-q4_K_M'), name('registry.ollama.ai', 'library', 'llama3.2', '1.5b-q4_K_M'))
    })

    it('reads namespace/model:tag with the default host', () => {
      assert.deepEqual(parseModelName('user/m:tag'), name('registry.ollama.ai', 'user', 'm', 'tag'))
    })

    it('reads host:port/namespace/model:tag, the port staying in the host', () => {
      assert.deepEqual(parseModelName('host:5000/ns/m:tag'), name('host:5000', 'ns', 'm', 'tag'))
    })

    it('defaults the tag of host:port/namespace/model without mistaking the port for a tag', () => {
      assert.deepEqual(parseModelName('host:5000/ns/m'), name('host:5000', 'ns', 'm', 'latest'))
    })

    it('drops an http:// or https:// scheme in front of the host', () => {
      assert.deepEqual(parseModelName('http://host:5000/ns/m'), name('host:5000', 'ns', 'm', 'latest'))
      assert.deepEqual(parseModelName('https://example.com/ns/m:7b'), name('example.com', 'ns', 'm', '7b'))
    })

    it('keeps the caller\'s casing', () => {
      assert.deepEqual(parseModelName('Host.Example/NS/Model:TAG'), name('Host.Example', 'NS', 'Model', 'TAG'))
    })

    it('accepts an underscore as the first character of any part', () => {
      assert.deepEqual(parseModelName('_h/_ns/_m:_t'), name('_h', '_ns', '_m', '_t'))
    })
  })

  describe('part lengths', () => {
    const h = (n: number): string => 'h'.repeat(n)
    const x = (n: number): string => 'x'.repeat(n)

    it('accepts a 350-character host and rejects 351', () => {
      assert.equal(parseModelName(`${h(350)}/ns/m:t`).host.length, 350)
      rejectsName(`${h(351)}/ns/m:t`)
    })

    it('accepts 80-character namespaces, models and tags and rejects 81', () => {
      assert.equal(parseModelName(`${x(80)}/m`).namespace.length, 80)
      assert.equal(parseModelName(`ns/${x(80)}`).model.length, 80)
      assert.equal(parseModelName(`m:${x(80)}`).tag.length, 80)
      rejectsName(`${x(81)}/m`)
      rejectsName(`ns/${x(81)}`)
      rejectsName(`m:${x(81)}`)
    })

    it('accepts the longest valid name without a scheme', () => {
      const s = `${h(350)}/${x(80)}/${x(80)}:${x(80)}`
      assert.equal(fullName(parseModelName(s)), s)
    })
    it('accepts the longest valid name with an https:// scheme', () => {
      const s = `${h(350)}/${x(80)}/${x(80)}:${x(80)}`
      assert.equal(fullName(parseModelName(`https://${s}`)), s)
    })
  })

  describe('character rules', () => {
    it('rejects a part that starts with "-" or "."', () => {
      rejectsName('-m')
      rejectsName('ns/.m')
      rejectsName('m:.t')
      rejectsName('-h/ns/m')
    })

    it('allows "." in hosts, models and tags but not in namespaces', () => {
      assert.equal(parseModelName('a.b/ns/m.x:t.y').host, 'a.b')
      rejectsName('na.me/m')
      rejectsName('h/na.me/m:t')
    })

    it('allows ":" only in the host', () => {
      rejectsName('ns:x/m')
      rejectsName('h/ns:x/m:t')
      rejectsName('h/ns/m:t:x')
    })

    it('rejects path traversal in every form', () => {
      for (const s of ['..', '../x', 'a/../b', '../../etc/passwd', 'h/../m:t', '.', './m', 'h/ns/..', 'm:..', '%2e%2e', '%2e%2e/x']) rejectsName(s)
    })

    it('rejects empty parts: a trailing ":", a leading "/", and "//"', () => {
      rejectsName('model:')
      rejectsName('/model')
      rejectsName('a//b')
      rejectsName('ns/')
      rejectsName(':t')
    })

    it('rejects an extra slash, which ends up in the host', () => {
      rejectsName('a/b/c/d')
      rejectsName('http://a/b/c/d')
    })

    it('rejects a digest suffix, which Ollama does not parse', () => {
      rejectsName('m@sha256:abc')
      rejectsName(`m@sha256:${'a'.repeat(64)}`)
    })

    it('rejects empty input and anything that is not a string', () => {
      for (const v of ['', undefined, null, 42, {}, ['llama3'], true]) rejectsName(v)
    })

    it('rejects control characters, spaces and backslashes', () => {
      for (const s of ['m\n', 'm\u0000', 'lla\tma', 'm x', ' m', 'm ', 'ns\\m', 'm:t\r']) rejectsName(s)
    })

    it('rejects unicode letters', () => {
      for (const s of ['modèle', 'модель', 'ns/模型', 'm:ü', 'h\u00e9st/ns/m']) rejectsName(s)
    })

    it('rejects other URL-ish characters', () => {
      for (const s of ['m?x', 'm#x', 'm%20x', 'ns/m;rm', 'a=b', 'm*']) rejectsName(s)
    })
  })

  describe('string forms', () => {
    it('fullName writes host/namespace/model:tag', () => {
      assert.equal(fullName(parseModelName('llama3')), 'registry.ollama.ai/library/llama3:latest')
      assert.equal(fullName(parseModelName('http://host:5000/ns/m')), 'host:5000/ns/m:latest')
    })

    it('nameKey ignores case, so two spellings of one name collide', () => {
      assert.equal(nameKey(parseModelName('Llama3:Latest')), nameKey(parseModelName('llama3')))
      assert.notEqual(nameKey(parseModelName('llama3:8b')), nameKey(parseModelName('llama3')))
    })

    it('displayName leaves out the default host and namespace', () => {
      assert.equal(displayName(parseModelName('llama3')), 'llama3:latest')
    })

    it('displayName keeps a non-default namespace on the default host', () => {
      assert.equal(displayName(parseModelName('user/m:tag')), 'user/m:tag')
    })

    it('displayName keeps everything for another host', () => {
      assert.equal(displayName(parseModelName('host:5000/ns/m:tag')), 'host:5000/ns/m:tag')
    })

    it('displayName keeps the library namespace for another host, as Ollama\'s DisplayShortest does', () => {
      // Ollama: a non-default host writes host/namespace/ whatever the namespace is.
      assert.equal(displayName(parseModelName('host:5000/library/m:tag')), 'host:5000/library/m:tag')
    })

    it('displayName of a parsed name parses back to the same name', () => {
      for (const s of ['llama3', 'user/m:tag', 'host:5000/ns/m:tag', 'host:5000/library/m']) {
        const n = parseModelName(s)
        assert.deepEqual(parseModelName(displayName(n)), n)
      }
    })
    it('displayName compares the default host and namespace without case, as Ollama does', () => {
      assert.equal(displayName(parseModelName('REGISTRY.OLLAMA.AI/Library/m')), 'm:latest')
      assert.equal(displayName(parseModelName('registry.ollama.ai/LIBRARY/m:tag')), 'm:tag')
      assert.equal(displayName(parseModelName('Registry.Ollama.AI/user/m:tag')), 'user/m:tag')
    })
  })
})
