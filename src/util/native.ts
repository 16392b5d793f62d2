import { createRequire } from 'node:module'
import { OllamadError } from '../errors.js'

/** One of the modules scripts/build-native.sh builds from native/NAME.c into dist/native/ (this file runs from dist/src/util/). */
export function loadNative<T> (name: string): T {
  try {
    return createRequire(import.meta.url)(`../../native/${name}.node`) as T
  } catch (e) {
    throw new OllamadError('INTERNAL', `the native module ${name} is missing (run npm run build): ${(e as Error).message}`)
  }
}
