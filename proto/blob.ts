import { decodeMessage, encodeMessage, enumeration, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface BlobRequest {
  kind: BlobRequest.Kind
  digest: Uint8Array<ArrayBuffer>
  index: number
  dataPlane: boolean
}

export namespace BlobRequest {
  export enum Kind {
    HAVE = 'HAVE',
    CHUNK = 'CHUNK',
    MANIFEST = 'MANIFEST',
    CHUNK_MAP = 'CHUNK_MAP'
  }

  enum __KindValues {
    HAVE = 0,
    CHUNK = 1,
    MANIFEST = 2,
    CHUNK_MAP = 3
  }

  export namespace Kind {
    export const codec = (): Codec<Kind> => {
      return enumeration<Kind>(__KindValues)
    }
  }

  let _codec: Codec<BlobRequest>

  export const codec = (): Codec<BlobRequest> => {
    if (_codec == null) {
      _codec = message<BlobRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.kind != null && __KindValues[obj.kind] !== 0) {
          w.uint32(8)
          BlobRequest.Kind.codec().encode(obj.kind, w)
        }

        if ((obj.digest != null && obj.digest.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.digest)
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(24)
          w.uint32(obj.index)
        }

        if ((obj.dataPlane != null && obj.dataPlane !== false)) {
          w.uint32(32)
          w.bool(obj.dataPlane)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          kind: Kind.HAVE,
          digest: uint8ArrayAlloc(0),
          index: 0,
          dataPlane: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.kind = BlobRequest.Kind.codec().decode(reader)
              break
            }
            case 2: {
              obj.digest = reader.bytes()
              break
            }
            case 3: {
              obj.index = reader.uint32()
              break
            }
            case 4: {
              obj.dataPlane = reader.bool()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.kind`,
                value: BlobRequest.Kind.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.digest`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.index`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.dataPlane`,
                value: reader.bool()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface BlobRequestKindFieldEvent {
    field: '$.kind'
    value: BlobRequest.Kind
  }

  export interface BlobRequestDigestFieldEvent {
    field: '$.digest'
    value: Uint8Array<ArrayBuffer>
  }

  export interface BlobRequestIndexFieldEvent {
    field: '$.index'
    value: number
  }

  export interface BlobRequestDataPlaneFieldEvent {
    field: '$.dataPlane'
    value: boolean
  }

  export function encode (obj: Partial<BlobRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, BlobRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<BlobRequest>): BlobRequest {
    return decodeMessage(buf, BlobRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<BlobRequest>): Generator<BlobRequestKindFieldEvent | BlobRequestDigestFieldEvent | BlobRequestIndexFieldEvent | BlobRequestDataPlaneFieldEvent> {
    return streamMessage(buf, BlobRequest.codec(), opts)
  }
}

export interface BlobResponse {
  status: BlobResponse.Status
  size: bigint
  bitmap: Uint8Array<ArrayBuffer>
  complete: boolean
  length: bigint
  error: string
  ticket: Uint8Array<ArrayBuffer>
  dataPort: number
}

export namespace BlobResponse {
  export enum Status {
    OK = 'OK',
    NOT_FOUND = 'NOT_FOUND',
    BAD_REQUEST = 'BAD_REQUEST',
    BUSY = 'BUSY'
  }

  enum __StatusValues {
    OK = 0,
    NOT_FOUND = 1,
    BAD_REQUEST = 2,
    BUSY = 3
  }

  export namespace Status {
    export const codec = (): Codec<Status> => {
      return enumeration<Status>(__StatusValues)
    }
  }

  let _codec: Codec<BlobResponse>

  export const codec = (): Codec<BlobResponse> => {
    if (_codec == null) {
      _codec = message<BlobResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.status != null && __StatusValues[obj.status] !== 0) {
          w.uint32(8)
          BlobResponse.Status.codec().encode(obj.status, w)
        }

        if ((obj.size != null && obj.size !== 0n)) {
          w.uint32(16)
          w.uint64(obj.size)
        }

        if ((obj.bitmap != null && obj.bitmap.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.bitmap)
        }

        if ((obj.complete != null && obj.complete !== false)) {
          w.uint32(32)
          w.bool(obj.complete)
        }

        if ((obj.length != null && obj.length !== 0n)) {
          w.uint32(40)
          w.uint64(obj.length)
        }

        if ((obj.error != null && obj.error !== '')) {
          w.uint32(50)
          w.string(obj.error)
        }

        if ((obj.ticket != null && obj.ticket.byteLength > 0)) {
          w.uint32(58)
          w.bytes(obj.ticket)
        }

        if ((obj.dataPort != null && obj.dataPort !== 0)) {
          w.uint32(64)
          w.uint32(obj.dataPort)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          status: Status.OK,
          size: 0n,
          bitmap: uint8ArrayAlloc(0),
          complete: false,
          length: 0n,
          error: '',
          ticket: uint8ArrayAlloc(0),
          dataPort: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.status = BlobResponse.Status.codec().decode(reader)
              break
            }
            case 2: {
              obj.size = reader.uint64()
              break
            }
            case 3: {
              obj.bitmap = reader.bytes()
              break
            }
            case 4: {
              obj.complete = reader.bool()
              break
            }
            case 5: {
              obj.length = reader.uint64()
              break
            }
            case 6: {
              obj.error = reader.string()
              break
            }
            case 7: {
              obj.ticket = reader.bytes()
              break
            }
            case 8: {
              obj.dataPort = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.status`,
                value: BlobResponse.Status.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.size`,
                value: reader.uint64()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.bitmap`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.complete`,
                value: reader.bool()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.length`,
                value: reader.uint64()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.error`,
                value: reader.string()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.ticket`,
                value: reader.bytes()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.dataPort`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface BlobResponseStatusFieldEvent {
    field: '$.status'
    value: BlobResponse.Status
  }

  export interface BlobResponseSizeFieldEvent {
    field: '$.size'
    value: bigint
  }

  export interface BlobResponseBitmapFieldEvent {
    field: '$.bitmap'
    value: Uint8Array<ArrayBuffer>
  }

  export interface BlobResponseCompleteFieldEvent {
    field: '$.complete'
    value: boolean
  }

  export interface BlobResponseLengthFieldEvent {
    field: '$.length'
    value: bigint
  }

  export interface BlobResponseErrorFieldEvent {
    field: '$.error'
    value: string
  }

  export interface BlobResponseTicketFieldEvent {
    field: '$.ticket'
    value: Uint8Array<ArrayBuffer>
  }

  export interface BlobResponseDataPortFieldEvent {
    field: '$.dataPort'
    value: number
  }

  export function encode (obj: Partial<BlobResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, BlobResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<BlobResponse>): BlobResponse {
    return decodeMessage(buf, BlobResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<BlobResponse>): Generator<BlobResponseStatusFieldEvent | BlobResponseSizeFieldEvent | BlobResponseBitmapFieldEvent | BlobResponseCompleteFieldEvent | BlobResponseLengthFieldEvent | BlobResponseErrorFieldEvent | BlobResponseTicketFieldEvent | BlobResponseDataPortFieldEvent> {
    return streamMessage(buf, BlobResponse.codec(), opts)
  }
}
