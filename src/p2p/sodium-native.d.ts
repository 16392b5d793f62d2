// The few sodium-native calls we use (its own package ships no types; @types/sodium-native is for v2).
declare module 'sodium-native' {
  const sodium: {
    crypto_stream_xor_STATEBYTES: number
    crypto_stream_xor_init: (state: Uint8Array, nonce: Uint8Array, key: Uint8Array) => void
    crypto_stream_xor_update: (state: Uint8Array, out: Uint8Array, data: Uint8Array) => void
    crypto_stream_xor_final: (state: Uint8Array) => void
  }
  export default sodium
}
