import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { OllamadError } from '../errors.js'
import type { RegistryClient } from '../registry/index.js'
import { manifestBlobs, parseManifest, MEDIA_DOCKER_MANIFEST, type ModelName, type Store } from '../store/index.js'
import { throttle } from '../util/throttle.js'
import type { Clock } from '../util/clock.js'
import type { RateLimiter } from '../util/rate-limit.js'
import type { ProgressListener } from './progress.js'

export interface PusherComponents { store: Store, registry: RegistryClient, clock: Clock, limiter: RateLimiter }

export interface PushOptions { insecure?: boolean, signal?: AbortSignal, onProgress?: ProgressListener }

export interface Pusher { push: (name: ModelName, opts?: PushOptions) => Promise<void> }

/** Publishes a local model to a registry: blobs it lacks, then the manifest, as `ollama push` does. */
export function createPusher (c: PusherComponents): Pusher {
  return {
    push: async (name, o = {}) => {
      const emit = o.onProgress ?? (() => {})
      emit({ status: 'retrieving manifest' })
      const path = c.store.layout.manifest(name)
      const bytes = await readFile(path).catch(() => undefined)
      if (bytes === undefined) {
        emit({ status: "couldn't retrieve manifest" })
        throw new OllamadError('MODEL_NOT_FOUND', `model '${name.model}:${name.tag}' not found`)
      }
      const manifest = parseManifest(bytes)
      const [config, ...rest] = manifestBlobs(manifest)
      for (const layer of [...rest, config as typeof rest[number]]) {
        const status = `pushing ${layer.digest.slice(7, 19)}`
        if (await c.registry.hasBlob(name, layer.digest, o)) {
          emit({ status, digest: layer.digest, total: layer.size, completed: layer.size })
          continue
        }
        if (!await c.store.hasBlob(layer.digest, layer.size)) throw new OllamadError('BLOB_NOT_FOUND', `blob ${layer.digest} is missing from the local store`)
        let sent = 0
        const report = throttle(c.clock, 100, () => { emit({ status, digest: layer.digest, total: layer.size, completed: sent }) })
        const limiter = c.limiter
        const signal = o.signal
        const blobPath = c.store.layout.blob(layer.digest)
        await c.registry.pushBlob(name, layer.digest, layer.size, async function * () {
          for await (const chunk of createReadStream(blobPath, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
            await limiter.take(chunk.byteLength, signal)
            sent += chunk.byteLength
            report()
            yield chunk
          }
        }, o)
        report.flush()
        emit({ status, digest: layer.digest, total: layer.size, completed: layer.size })
      }
      emit({ status: 'pushing manifest' })
      await c.registry.putManifest(name, bytes, manifest.mediaType === '' ? MEDIA_DOCKER_MANIFEST : manifest.mediaType, o)
      emit({ status: 'success' })
    }
  }
}
