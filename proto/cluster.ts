import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface NodeRecord {
  peerId: string
  incarnation: bigint
  sequence: bigint
  name: string
  addrs: string[]
  apiUrl: string
  version: string
  diskTotal: bigint
  diskFree: bigint
  gpus: Gpu[]
  loaded: LoadedModel[]
  models: HeldModel[]
  blobs: HeldBlob[]
  writtenAt: bigint
  ollamaUp: boolean
  keep: KeepClaim[]
  jobs: JobProgress[]
  maxCache: bigint
  minFreeDisk: bigint
  intentsDigest: Uint8Array<ArrayBuffer>
  noRoom: string[]
  transfer?: TransferTotals
  dataPort: number
}

export namespace NodeRecord {
  let _codec: Codec<NodeRecord>

  export const codec = (): Codec<NodeRecord> => {
    if (_codec == null) {
      _codec = message<NodeRecord>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.peerId != null && obj.peerId !== '')) {
          w.uint32(10)
          w.string(obj.peerId)
        }

        if ((obj.incarnation != null && obj.incarnation !== 0n)) {
          w.uint32(16)
          w.uint64(obj.incarnation)
        }

        if ((obj.sequence != null && obj.sequence !== 0n)) {
          w.uint32(24)
          w.uint64(obj.sequence)
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(34)
          w.string(obj.name)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(42)
            w.string(value)
          }
        }

        if ((obj.apiUrl != null && obj.apiUrl !== '')) {
          w.uint32(50)
          w.string(obj.apiUrl)
        }

        if ((obj.version != null && obj.version !== '')) {
          w.uint32(58)
          w.string(obj.version)
        }

        if ((obj.diskTotal != null && obj.diskTotal !== 0n)) {
          w.uint32(64)
          w.uint64(obj.diskTotal)
        }

        if ((obj.diskFree != null && obj.diskFree !== 0n)) {
          w.uint32(72)
          w.uint64(obj.diskFree)
        }

        if (obj.gpus != null && obj.gpus.length > 0) {
          for (const value of obj.gpus) {
            w.uint32(82)
            Gpu.codec().encode(value, w)
          }
        }

        if (obj.loaded != null && obj.loaded.length > 0) {
          for (const value of obj.loaded) {
            w.uint32(90)
            LoadedModel.codec().encode(value, w)
          }
        }

        if (obj.models != null && obj.models.length > 0) {
          for (const value of obj.models) {
            w.uint32(98)
            HeldModel.codec().encode(value, w)
          }
        }

        if (obj.blobs != null && obj.blobs.length > 0) {
          for (const value of obj.blobs) {
            w.uint32(106)
            HeldBlob.codec().encode(value, w)
          }
        }

        if ((obj.writtenAt != null && obj.writtenAt !== 0n)) {
          w.uint32(112)
          w.uint64(obj.writtenAt)
        }

        if ((obj.ollamaUp != null && obj.ollamaUp !== false)) {
          w.uint32(120)
          w.bool(obj.ollamaUp)
        }

        if (obj.keep != null && obj.keep.length > 0) {
          for (const value of obj.keep) {
            w.uint32(130)
            KeepClaim.codec().encode(value, w)
          }
        }

        if (obj.jobs != null && obj.jobs.length > 0) {
          for (const value of obj.jobs) {
            w.uint32(138)
            JobProgress.codec().encode(value, w)
          }
        }

        if ((obj.maxCache != null && obj.maxCache !== 0n)) {
          w.uint32(144)
          w.uint64(obj.maxCache)
        }

        if ((obj.minFreeDisk != null && obj.minFreeDisk !== 0n)) {
          w.uint32(152)
          w.uint64(obj.minFreeDisk)
        }

        if ((obj.intentsDigest != null && obj.intentsDigest.byteLength > 0)) {
          w.uint32(162)
          w.bytes(obj.intentsDigest)
        }

        if (obj.noRoom != null && obj.noRoom.length > 0) {
          for (const value of obj.noRoom) {
            w.uint32(170)
            w.string(value)
          }
        }

        if (obj.transfer != null) {
          w.uint32(178)
          TransferTotals.codec().encode(obj.transfer, w)
        }

        if ((obj.dataPort != null && obj.dataPort !== 0)) {
          w.uint32(184)
          w.uint32(obj.dataPort)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          peerId: '',
          incarnation: 0n,
          sequence: 0n,
          name: '',
          addrs: [],
          apiUrl: '',
          version: '',
          diskTotal: 0n,
          diskFree: 0n,
          gpus: [],
          loaded: [],
          models: [],
          blobs: [],
          writtenAt: 0n,
          ollamaUp: false,
          keep: [],
          jobs: [],
          maxCache: 0n,
          minFreeDisk: 0n,
          intentsDigest: uint8ArrayAlloc(0),
          noRoom: [],
          dataPort: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.peerId = reader.string()
              break
            }
            case 2: {
              obj.incarnation = reader.uint64()
              break
            }
            case 3: {
              obj.sequence = reader.uint64()
              break
            }
            case 4: {
              obj.name = reader.string()
              break
            }
            case 5: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.string())
              break
            }
            case 6: {
              obj.apiUrl = reader.string()
              break
            }
            case 7: {
              obj.version = reader.string()
              break
            }
            case 8: {
              obj.diskTotal = reader.uint64()
              break
            }
            case 9: {
              obj.diskFree = reader.uint64()
              break
            }
            case 10: {
              if (opts.limits?.gpus != null && obj.gpus.length === opts.limits.gpus) {
                throw new MaxLengthError('Decode error - repeated field "gpus" had too many elements')
              }

              obj.gpus.push(Gpu.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.gpus$
              }))
              break
            }
            case 11: {
              if (opts.limits?.loaded != null && obj.loaded.length === opts.limits.loaded) {
                throw new MaxLengthError('Decode error - repeated field "loaded" had too many elements')
              }

              obj.loaded.push(LoadedModel.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.loaded$
              }))
              break
            }
            case 12: {
              if (opts.limits?.models != null && obj.models.length === opts.limits.models) {
                throw new MaxLengthError('Decode error - repeated field "models" had too many elements')
              }

              obj.models.push(HeldModel.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.models$
              }))
              break
            }
            case 13: {
              if (opts.limits?.blobs != null && obj.blobs.length === opts.limits.blobs) {
                throw new MaxLengthError('Decode error - repeated field "blobs" had too many elements')
              }

              obj.blobs.push(HeldBlob.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.blobs$
              }))
              break
            }
            case 14: {
              obj.writtenAt = reader.uint64()
              break
            }
            case 15: {
              obj.ollamaUp = reader.bool()
              break
            }
            case 16: {
              if (opts.limits?.keep != null && obj.keep.length === opts.limits.keep) {
                throw new MaxLengthError('Decode error - repeated field "keep" had too many elements')
              }

              obj.keep.push(KeepClaim.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.keep$
              }))
              break
            }
            case 17: {
              if (opts.limits?.jobs != null && obj.jobs.length === opts.limits.jobs) {
                throw new MaxLengthError('Decode error - repeated field "jobs" had too many elements')
              }

              obj.jobs.push(JobProgress.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.jobs$
              }))
              break
            }
            case 18: {
              obj.maxCache = reader.uint64()
              break
            }
            case 19: {
              obj.minFreeDisk = reader.uint64()
              break
            }
            case 20: {
              obj.intentsDigest = reader.bytes()
              break
            }
            case 21: {
              if (opts.limits?.noRoom != null && obj.noRoom.length === opts.limits.noRoom) {
                throw new MaxLengthError('Decode error - repeated field "noRoom" had too many elements')
              }

              obj.noRoom.push(reader.string())
              break
            }
            case 22: {
              obj.transfer = TransferTotals.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.transfer
              })
              break
            }
            case 23: {
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
        const obj = {
          addrs: 0,
          gpus: 0,
          loaded: 0,
          models: 0,
          blobs: 0,
          keep: 0,
          jobs: 0,
          noRoom: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.peerId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.incarnation`,
                value: reader.uint64()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.sequence`,
                value: reader.uint64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 5: {
              if (opts.limits?.addrs != null && obj.addrs === opts.limits.addrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "addrs" had too many elements')
              }

              yield {
                field: `${prefix}.addrs[]`,
                index: obj.addrs,
                value: reader.string()
              }

              obj.addrs++

              break
            }
            case 6: {
              yield {
                field: `${prefix}.apiUrl`,
                value: reader.string()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.version`,
                value: reader.string()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.diskTotal`,
                value: reader.uint64()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.diskFree`,
                value: reader.uint64()
              }
              break
            }
            case 10: {
              if (opts.limits?.gpus != null && obj.gpus === opts.limits.gpus) {
                throw new MaxLengthError('Streaming decode error - repeated field "gpus" had too many elements')
              }

              for (const evt of Gpu.codec().stream(reader, reader.uint32(), `${prefix}.gpus[]`, {
                limits: opts.limits?.gpus$
              })) {
                yield {
                  ...evt,
                  index: obj.gpus
                }
              }

              obj.gpus++

              break
            }
            case 11: {
              if (opts.limits?.loaded != null && obj.loaded === opts.limits.loaded) {
                throw new MaxLengthError('Streaming decode error - repeated field "loaded" had too many elements')
              }

              for (const evt of LoadedModel.codec().stream(reader, reader.uint32(), `${prefix}.loaded[]`, {
                limits: opts.limits?.loaded$
              })) {
                yield {
                  ...evt,
                  index: obj.loaded
                }
              }

              obj.loaded++

              break
            }
            case 12: {
              if (opts.limits?.models != null && obj.models === opts.limits.models) {
                throw new MaxLengthError('Streaming decode error - repeated field "models" had too many elements')
              }

              for (const evt of HeldModel.codec().stream(reader, reader.uint32(), `${prefix}.models[]`, {
                limits: opts.limits?.models$
              })) {
                yield {
                  ...evt,
                  index: obj.models
                }
              }

              obj.models++

              break
            }
            case 13: {
              if (opts.limits?.blobs != null && obj.blobs === opts.limits.blobs) {
                throw new MaxLengthError('Streaming decode error - repeated field "blobs" had too many elements')
              }

              for (const evt of HeldBlob.codec().stream(reader, reader.uint32(), `${prefix}.blobs[]`, {
                limits: opts.limits?.blobs$
              })) {
                yield {
                  ...evt,
                  index: obj.blobs
                }
              }

              obj.blobs++

              break
            }
            case 14: {
              yield {
                field: `${prefix}.writtenAt`,
                value: reader.uint64()
              }
              break
            }
            case 15: {
              yield {
                field: `${prefix}.ollamaUp`,
                value: reader.bool()
              }
              break
            }
            case 16: {
              if (opts.limits?.keep != null && obj.keep === opts.limits.keep) {
                throw new MaxLengthError('Streaming decode error - repeated field "keep" had too many elements')
              }

              for (const evt of KeepClaim.codec().stream(reader, reader.uint32(), `${prefix}.keep[]`, {
                limits: opts.limits?.keep$
              })) {
                yield {
                  ...evt,
                  index: obj.keep
                }
              }

              obj.keep++

              break
            }
            case 17: {
              if (opts.limits?.jobs != null && obj.jobs === opts.limits.jobs) {
                throw new MaxLengthError('Streaming decode error - repeated field "jobs" had too many elements')
              }

              for (const evt of JobProgress.codec().stream(reader, reader.uint32(), `${prefix}.jobs[]`, {
                limits: opts.limits?.jobs$
              })) {
                yield {
                  ...evt,
                  index: obj.jobs
                }
              }

              obj.jobs++

              break
            }
            case 18: {
              yield {
                field: `${prefix}.maxCache`,
                value: reader.uint64()
              }
              break
            }
            case 19: {
              yield {
                field: `${prefix}.minFreeDisk`,
                value: reader.uint64()
              }
              break
            }
            case 20: {
              yield {
                field: `${prefix}.intentsDigest`,
                value: reader.bytes()
              }
              break
            }
            case 21: {
              if (opts.limits?.noRoom != null && obj.noRoom === opts.limits.noRoom) {
                throw new MaxLengthError('Streaming decode error - repeated field "noRoom" had too many elements')
              }

              yield {
                field: `${prefix}.noRoom[]`,
                index: obj.noRoom,
                value: reader.string()
              }

              obj.noRoom++

              break
            }
            case 22: {
              yield * TransferTotals.codec().stream(reader, reader.uint32(), `${prefix}.transfer`, {
                limits: opts.limits?.transfer
              })

              break
            }
            case 23: {
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

  export interface NodeRecordPeerIdFieldEvent {
    field: '$.peerId'
    value: string
  }

  export interface NodeRecordIncarnationFieldEvent {
    field: '$.incarnation'
    value: bigint
  }

  export interface NodeRecordSequenceFieldEvent {
    field: '$.sequence'
    value: bigint
  }

  export interface NodeRecordNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface NodeRecordAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: string
  }

  export interface NodeRecordApiUrlFieldEvent {
    field: '$.apiUrl'
    value: string
  }

  export interface NodeRecordVersionFieldEvent {
    field: '$.version'
    value: string
  }

  export interface NodeRecordDiskTotalFieldEvent {
    field: '$.diskTotal'
    value: bigint
  }

  export interface NodeRecordDiskFreeFieldEvent {
    field: '$.diskFree'
    value: bigint
  }

  export interface NodeRecordGpusIndexFieldEvent {
    field: '$.gpus[].index'
    value: number
    index: number
  }

  export interface NodeRecordGpusNameFieldEvent {
    field: '$.gpus[].name'
    value: string
    index: number
  }

  export interface NodeRecordGpusMemoryTotalFieldEvent {
    field: '$.gpus[].memoryTotal'
    value: bigint
    index: number
  }

  export interface NodeRecordGpusMemoryUsedFieldEvent {
    field: '$.gpus[].memoryUsed'
    value: bigint
    index: number
  }

  export interface NodeRecordGpusMemoryFreeFieldEvent {
    field: '$.gpus[].memoryFree'
    value: bigint
    index: number
  }

  export interface NodeRecordGpusUtilizationFieldEvent {
    field: '$.gpus[].utilization'
    value: number
    index: number
  }

  export interface NodeRecordLoadedNameFieldEvent {
    field: '$.loaded[].name'
    value: string
    index: number
  }

  export interface NodeRecordLoadedSizeFieldEvent {
    field: '$.loaded[].size'
    value: bigint
    index: number
  }

  export interface NodeRecordLoadedSizeVramFieldEvent {
    field: '$.loaded[].sizeVram'
    value: bigint
    index: number
  }

  export interface NodeRecordLoadedExpiresAtFieldEvent {
    field: '$.loaded[].expiresAt'
    value: string
    index: number
  }

  export interface NodeRecordLoadedDigestFieldEvent {
    field: '$.loaded[].digest'
    value: string
    index: number
  }

  export interface NodeRecordModelsNameFieldEvent {
    field: '$.models[].name'
    value: string
    index: number
  }

  export interface NodeRecordModelsManifestDigestFieldEvent {
    field: '$.models[].manifestDigest'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface NodeRecordModelsSizeFieldEvent {
    field: '$.models[].size'
    value: bigint
    index: number
  }

  export interface NodeRecordModelsPulledAtFieldEvent {
    field: '$.models[].pulledAt'
    value: bigint
    index: number
  }

  export interface NodeRecordModelsVramEstimateFieldEvent {
    field: '$.models[].vramEstimate'
    value: bigint
    index: number
  }

  export interface NodeRecordBlobsDigestFieldEvent {
    field: '$.blobs[].digest'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface NodeRecordBlobsSizeFieldEvent {
    field: '$.blobs[].size'
    value: bigint
    index: number
  }

  export interface NodeRecordBlobsCompleteFieldEvent {
    field: '$.blobs[].complete'
    value: boolean
    index: number
  }

  export interface NodeRecordBlobsBitmapFieldEvent {
    field: '$.blobs[].bitmap'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface NodeRecordBlobsChunkMapFieldEvent {
    field: '$.blobs[].chunkMap'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface NodeRecordBlobsAnnouncedIndexFieldEvent {
    field: '$.blobs[].announced[].index'
    value: number
    index: number
  }

  export interface NodeRecordBlobsAnnouncedSha256FieldEvent {
    field: '$.blobs[].announced[].sha256'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface NodeRecordBlobsArrivingFieldEvent {
    field: '$.blobs[].arriving'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface NodeRecordWrittenAtFieldEvent {
    field: '$.writtenAt'
    value: bigint
  }

  export interface NodeRecordOllamaUpFieldEvent {
    field: '$.ollamaUp'
    value: boolean
  }

  export interface NodeRecordKeepNameFieldEvent {
    field: '$.keep[].name'
    value: string
    index: number
  }

  export interface NodeRecordKeepManifestDigestFieldEvent {
    field: '$.keep[].manifestDigest'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface NodeRecordJobsIdFieldEvent {
    field: '$.jobs[].id'
    value: string
    index: number
  }

  export interface NodeRecordJobsStateFieldEvent {
    field: '$.jobs[].state'
    value: string
    index: number
  }

  export interface NodeRecordJobsCompletedFieldEvent {
    field: '$.jobs[].completed'
    value: bigint
    index: number
  }

  export interface NodeRecordJobsTotalFieldEvent {
    field: '$.jobs[].total'
    value: bigint
    index: number
  }

  export interface NodeRecordJobsErrorFieldEvent {
    field: '$.jobs[].error'
    value: string
    index: number
  }

  export interface NodeRecordJobsUpdatedAtFieldEvent {
    field: '$.jobs[].updatedAt'
    value: bigint
    index: number
  }

  export interface NodeRecordMaxCacheFieldEvent {
    field: '$.maxCache'
    value: bigint
  }

  export interface NodeRecordMinFreeDiskFieldEvent {
    field: '$.minFreeDisk'
    value: bigint
  }

  export interface NodeRecordIntentsDigestFieldEvent {
    field: '$.intentsDigest'
    value: Uint8Array<ArrayBuffer>
  }

  export interface NodeRecordNoRoomFieldEvent {
    field: '$.noRoom[]'
    index: number
    value: string
  }

  export interface NodeRecordTransferFromPeersFieldEvent {
    field: '$.transfer.fromPeers'
    value: bigint
  }

  export interface NodeRecordTransferFromRegistryFieldEvent {
    field: '$.transfer.fromRegistry'
    value: bigint
  }

  export interface NodeRecordTransferToPeersFieldEvent {
    field: '$.transfer.toPeers'
    value: bigint
  }

  export interface NodeRecordDataPortFieldEvent {
    field: '$.dataPort'
    value: number
  }

  export function encode (obj: Partial<NodeRecord>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, NodeRecord.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<NodeRecord>): NodeRecord {
    return decodeMessage(buf, NodeRecord.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<NodeRecord>): Generator<NodeRecordPeerIdFieldEvent | NodeRecordIncarnationFieldEvent | NodeRecordSequenceFieldEvent | NodeRecordNameFieldEvent | NodeRecordAddrsFieldEvent | NodeRecordApiUrlFieldEvent | NodeRecordVersionFieldEvent | NodeRecordDiskTotalFieldEvent | NodeRecordDiskFreeFieldEvent | NodeRecordGpusIndexFieldEvent | NodeRecordGpusNameFieldEvent | NodeRecordGpusMemoryTotalFieldEvent | NodeRecordGpusMemoryUsedFieldEvent | NodeRecordGpusMemoryFreeFieldEvent | NodeRecordGpusUtilizationFieldEvent | NodeRecordLoadedNameFieldEvent | NodeRecordLoadedSizeFieldEvent | NodeRecordLoadedSizeVramFieldEvent | NodeRecordLoadedExpiresAtFieldEvent | NodeRecordLoadedDigestFieldEvent | NodeRecordModelsNameFieldEvent | NodeRecordModelsManifestDigestFieldEvent | NodeRecordModelsSizeFieldEvent | NodeRecordModelsPulledAtFieldEvent | NodeRecordModelsVramEstimateFieldEvent | NodeRecordBlobsDigestFieldEvent | NodeRecordBlobsSizeFieldEvent | NodeRecordBlobsCompleteFieldEvent | NodeRecordBlobsBitmapFieldEvent | NodeRecordBlobsChunkMapFieldEvent | NodeRecordBlobsAnnouncedIndexFieldEvent | NodeRecordBlobsAnnouncedSha256FieldEvent | NodeRecordBlobsArrivingFieldEvent | NodeRecordWrittenAtFieldEvent | NodeRecordOllamaUpFieldEvent | NodeRecordKeepNameFieldEvent | NodeRecordKeepManifestDigestFieldEvent | NodeRecordJobsIdFieldEvent | NodeRecordJobsStateFieldEvent | NodeRecordJobsCompletedFieldEvent | NodeRecordJobsTotalFieldEvent | NodeRecordJobsErrorFieldEvent | NodeRecordJobsUpdatedAtFieldEvent | NodeRecordMaxCacheFieldEvent | NodeRecordMinFreeDiskFieldEvent | NodeRecordIntentsDigestFieldEvent | NodeRecordNoRoomFieldEvent | NodeRecordTransferFromPeersFieldEvent | NodeRecordTransferFromRegistryFieldEvent | NodeRecordTransferToPeersFieldEvent | NodeRecordDataPortFieldEvent> {
    return streamMessage(buf, NodeRecord.codec(), opts)
  }
}

export interface TransferTotals {
  fromPeers: bigint
  fromRegistry: bigint
  toPeers: bigint
}

export namespace TransferTotals {
  let _codec: Codec<TransferTotals>

  export const codec = (): Codec<TransferTotals> => {
    if (_codec == null) {
      _codec = message<TransferTotals>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.fromPeers != null && obj.fromPeers !== 0n)) {
          w.uint32(8)
          w.uint64(obj.fromPeers)
        }

        if ((obj.fromRegistry != null && obj.fromRegistry !== 0n)) {
          w.uint32(16)
          w.uint64(obj.fromRegistry)
        }

        if ((obj.toPeers != null && obj.toPeers !== 0n)) {
          w.uint32(24)
          w.uint64(obj.toPeers)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          fromPeers: 0n,
          fromRegistry: 0n,
          toPeers: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.fromPeers = reader.uint64()
              break
            }
            case 2: {
              obj.fromRegistry = reader.uint64()
              break
            }
            case 3: {
              obj.toPeers = reader.uint64()
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
                field: `${prefix}.fromPeers`,
                value: reader.uint64()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.fromRegistry`,
                value: reader.uint64()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.toPeers`,
                value: reader.uint64()
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

  export interface TransferTotalsFromPeersFieldEvent {
    field: '$.fromPeers'
    value: bigint
  }

  export interface TransferTotalsFromRegistryFieldEvent {
    field: '$.fromRegistry'
    value: bigint
  }

  export interface TransferTotalsToPeersFieldEvent {
    field: '$.toPeers'
    value: bigint
  }

  export function encode (obj: Partial<TransferTotals>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TransferTotals.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TransferTotals>): TransferTotals {
    return decodeMessage(buf, TransferTotals.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TransferTotals>): Generator<TransferTotalsFromPeersFieldEvent | TransferTotalsFromRegistryFieldEvent | TransferTotalsToPeersFieldEvent> {
    return streamMessage(buf, TransferTotals.codec(), opts)
  }
}

export interface KeepClaim {
  name: string
  manifestDigest: Uint8Array<ArrayBuffer>
}

export namespace KeepClaim {
  let _codec: Codec<KeepClaim>

  export const codec = (): Codec<KeepClaim> => {
    if (_codec == null) {
      _codec = message<KeepClaim>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(10)
          w.string(obj.name)
        }

        if ((obj.manifestDigest != null && obj.manifestDigest.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.manifestDigest)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          name: '',
          manifestDigest: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.name = reader.string()
              break
            }
            case 2: {
              obj.manifestDigest = reader.bytes()
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
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.manifestDigest`,
                value: reader.bytes()
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

  export interface KeepClaimNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface KeepClaimManifestDigestFieldEvent {
    field: '$.manifestDigest'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<KeepClaim>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, KeepClaim.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<KeepClaim>): KeepClaim {
    return decodeMessage(buf, KeepClaim.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<KeepClaim>): Generator<KeepClaimNameFieldEvent | KeepClaimManifestDigestFieldEvent> {
    return streamMessage(buf, KeepClaim.codec(), opts)
  }
}

export interface JobProgress {
  id: string
  state: string
  completed: bigint
  total: bigint
  error: string
  updatedAt: bigint
}

export namespace JobProgress {
  let _codec: Codec<JobProgress>

  export const codec = (): Codec<JobProgress> => {
    if (_codec == null) {
      _codec = message<JobProgress>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id !== '')) {
          w.uint32(10)
          w.string(obj.id)
        }

        if ((obj.state != null && obj.state !== '')) {
          w.uint32(18)
          w.string(obj.state)
        }

        if ((obj.completed != null && obj.completed !== 0n)) {
          w.uint32(24)
          w.uint64(obj.completed)
        }

        if ((obj.total != null && obj.total !== 0n)) {
          w.uint32(32)
          w.uint64(obj.total)
        }

        if ((obj.error != null && obj.error !== '')) {
          w.uint32(42)
          w.string(obj.error)
        }

        if ((obj.updatedAt != null && obj.updatedAt !== 0n)) {
          w.uint32(48)
          w.uint64(obj.updatedAt)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: '',
          state: '',
          completed: 0n,
          total: 0n,
          error: '',
          updatedAt: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.id = reader.string()
              break
            }
            case 2: {
              obj.state = reader.string()
              break
            }
            case 3: {
              obj.completed = reader.uint64()
              break
            }
            case 4: {
              obj.total = reader.uint64()
              break
            }
            case 5: {
              obj.error = reader.string()
              break
            }
            case 6: {
              obj.updatedAt = reader.uint64()
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
                field: `${prefix}.id`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.state`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.completed`,
                value: reader.uint64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.total`,
                value: reader.uint64()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.error`,
                value: reader.string()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.updatedAt`,
                value: reader.uint64()
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

  export interface JobProgressIdFieldEvent {
    field: '$.id'
    value: string
  }

  export interface JobProgressStateFieldEvent {
    field: '$.state'
    value: string
  }

  export interface JobProgressCompletedFieldEvent {
    field: '$.completed'
    value: bigint
  }

  export interface JobProgressTotalFieldEvent {
    field: '$.total'
    value: bigint
  }

  export interface JobProgressErrorFieldEvent {
    field: '$.error'
    value: string
  }

  export interface JobProgressUpdatedAtFieldEvent {
    field: '$.updatedAt'
    value: bigint
  }

  export function encode (obj: Partial<JobProgress>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, JobProgress.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobProgress>): JobProgress {
    return decodeMessage(buf, JobProgress.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobProgress>): Generator<JobProgressIdFieldEvent | JobProgressStateFieldEvent | JobProgressCompletedFieldEvent | JobProgressTotalFieldEvent | JobProgressErrorFieldEvent | JobProgressUpdatedAtFieldEvent> {
    return streamMessage(buf, JobProgress.codec(), opts)
  }
}

export interface Intent {
  key: string
  value: string
  hlc: bigint
  writer: string
}

export namespace Intent {
  let _codec: Codec<Intent>

  export const codec = (): Codec<Intent> => {
    if (_codec == null) {
      _codec = message<Intent>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.key != null && obj.key !== '')) {
          w.uint32(10)
          w.string(obj.key)
        }

        if ((obj.value != null && obj.value !== '')) {
          w.uint32(18)
          w.string(obj.value)
        }

        if ((obj.hlc != null && obj.hlc !== 0n)) {
          w.uint32(24)
          w.uint64(obj.hlc)
        }

        if ((obj.writer != null && obj.writer !== '')) {
          w.uint32(34)
          w.string(obj.writer)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          key: '',
          value: '',
          hlc: 0n,
          writer: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.key = reader.string()
              break
            }
            case 2: {
              obj.value = reader.string()
              break
            }
            case 3: {
              obj.hlc = reader.uint64()
              break
            }
            case 4: {
              obj.writer = reader.string()
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
                field: `${prefix}.key`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.value`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.hlc`,
                value: reader.uint64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.writer`,
                value: reader.string()
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

  export interface IntentKeyFieldEvent {
    field: '$.key'
    value: string
  }

  export interface IntentValueFieldEvent {
    field: '$.value'
    value: string
  }

  export interface IntentHlcFieldEvent {
    field: '$.hlc'
    value: bigint
  }

  export interface IntentWriterFieldEvent {
    field: '$.writer'
    value: string
  }

  export function encode (obj: Partial<Intent>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Intent.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Intent>): Intent {
    return decodeMessage(buf, Intent.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Intent>): Generator<IntentKeyFieldEvent | IntentValueFieldEvent | IntentHlcFieldEvent | IntentWriterFieldEvent> {
    return streamMessage(buf, Intent.codec(), opts)
  }
}

export interface SignedIntent {
  intent: Uint8Array<ArrayBuffer>
  signature: Uint8Array<ArrayBuffer>
  publicKey: Uint8Array<ArrayBuffer>
}

export namespace SignedIntent {
  let _codec: Codec<SignedIntent>

  export const codec = (): Codec<SignedIntent> => {
    if (_codec == null) {
      _codec = message<SignedIntent>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.intent != null && obj.intent.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.intent)
        }

        if ((obj.signature != null && obj.signature.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.signature)
        }

        if ((obj.publicKey != null && obj.publicKey.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.publicKey)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          intent: uint8ArrayAlloc(0),
          signature: uint8ArrayAlloc(0),
          publicKey: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.intent = reader.bytes()
              break
            }
            case 2: {
              obj.signature = reader.bytes()
              break
            }
            case 3: {
              obj.publicKey = reader.bytes()
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
                field: `${prefix}.intent`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.signature`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.publicKey`,
                value: reader.bytes()
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

  export interface SignedIntentIntentFieldEvent {
    field: '$.intent'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedIntentSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedIntentPublicKeyFieldEvent {
    field: '$.publicKey'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SignedIntent>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SignedIntent.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedIntent>): SignedIntent {
    return decodeMessage(buf, SignedIntent.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedIntent>): Generator<SignedIntentIntentFieldEvent | SignedIntentSignatureFieldEvent | SignedIntentPublicKeyFieldEvent> {
    return streamMessage(buf, SignedIntent.codec(), opts)
  }
}

export interface Gpu {
  index: number
  name: string
  memoryTotal: bigint
  memoryUsed: bigint
  memoryFree: bigint
  utilization: number
}

export namespace Gpu {
  let _codec: Codec<Gpu>

  export const codec = (): Codec<Gpu> => {
    if (_codec == null) {
      _codec = message<Gpu>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(8)
          w.uint32(obj.index)
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(18)
          w.string(obj.name)
        }

        if ((obj.memoryTotal != null && obj.memoryTotal !== 0n)) {
          w.uint32(24)
          w.uint64(obj.memoryTotal)
        }

        if ((obj.memoryUsed != null && obj.memoryUsed !== 0n)) {
          w.uint32(32)
          w.uint64(obj.memoryUsed)
        }

        if ((obj.memoryFree != null && obj.memoryFree !== 0n)) {
          w.uint32(40)
          w.uint64(obj.memoryFree)
        }

        if ((obj.utilization != null && obj.utilization !== 0)) {
          w.uint32(48)
          w.uint32(obj.utilization)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          index: 0,
          name: '',
          memoryTotal: 0n,
          memoryUsed: 0n,
          memoryFree: 0n,
          utilization: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.index = reader.uint32()
              break
            }
            case 2: {
              obj.name = reader.string()
              break
            }
            case 3: {
              obj.memoryTotal = reader.uint64()
              break
            }
            case 4: {
              obj.memoryUsed = reader.uint64()
              break
            }
            case 5: {
              obj.memoryFree = reader.uint64()
              break
            }
            case 6: {
              obj.utilization = reader.uint32()
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
                field: `${prefix}.index`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.memoryTotal`,
                value: reader.uint64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.memoryUsed`,
                value: reader.uint64()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.memoryFree`,
                value: reader.uint64()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.utilization`,
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

  export interface GpuIndexFieldEvent {
    field: '$.index'
    value: number
  }

  export interface GpuNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface GpuMemoryTotalFieldEvent {
    field: '$.memoryTotal'
    value: bigint
  }

  export interface GpuMemoryUsedFieldEvent {
    field: '$.memoryUsed'
    value: bigint
  }

  export interface GpuMemoryFreeFieldEvent {
    field: '$.memoryFree'
    value: bigint
  }

  export interface GpuUtilizationFieldEvent {
    field: '$.utilization'
    value: number
  }

  export function encode (obj: Partial<Gpu>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Gpu.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Gpu>): Gpu {
    return decodeMessage(buf, Gpu.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Gpu>): Generator<GpuIndexFieldEvent | GpuNameFieldEvent | GpuMemoryTotalFieldEvent | GpuMemoryUsedFieldEvent | GpuMemoryFreeFieldEvent | GpuUtilizationFieldEvent> {
    return streamMessage(buf, Gpu.codec(), opts)
  }
}

export interface LoadedModel {
  name: string
  size: bigint
  sizeVram: bigint
  expiresAt: string
  digest: string
}

export namespace LoadedModel {
  let _codec: Codec<LoadedModel>

  export const codec = (): Codec<LoadedModel> => {
    if (_codec == null) {
      _codec = message<LoadedModel>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(10)
          w.string(obj.name)
        }

        if ((obj.size != null && obj.size !== 0n)) {
          w.uint32(16)
          w.uint64(obj.size)
        }

        if ((obj.sizeVram != null && obj.sizeVram !== 0n)) {
          w.uint32(24)
          w.uint64(obj.sizeVram)
        }

        if ((obj.expiresAt != null && obj.expiresAt !== '')) {
          w.uint32(34)
          w.string(obj.expiresAt)
        }

        if ((obj.digest != null && obj.digest !== '')) {
          w.uint32(42)
          w.string(obj.digest)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          name: '',
          size: 0n,
          sizeVram: 0n,
          expiresAt: '',
          digest: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.name = reader.string()
              break
            }
            case 2: {
              obj.size = reader.uint64()
              break
            }
            case 3: {
              obj.sizeVram = reader.uint64()
              break
            }
            case 4: {
              obj.expiresAt = reader.string()
              break
            }
            case 5: {
              obj.digest = reader.string()
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
                field: `${prefix}.name`,
                value: reader.string()
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
                field: `${prefix}.sizeVram`,
                value: reader.uint64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.expiresAt`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.digest`,
                value: reader.string()
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

  export interface LoadedModelNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface LoadedModelSizeFieldEvent {
    field: '$.size'
    value: bigint
  }

  export interface LoadedModelSizeVramFieldEvent {
    field: '$.sizeVram'
    value: bigint
  }

  export interface LoadedModelExpiresAtFieldEvent {
    field: '$.expiresAt'
    value: string
  }

  export interface LoadedModelDigestFieldEvent {
    field: '$.digest'
    value: string
  }

  export function encode (obj: Partial<LoadedModel>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LoadedModel.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LoadedModel>): LoadedModel {
    return decodeMessage(buf, LoadedModel.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LoadedModel>): Generator<LoadedModelNameFieldEvent | LoadedModelSizeFieldEvent | LoadedModelSizeVramFieldEvent | LoadedModelExpiresAtFieldEvent | LoadedModelDigestFieldEvent> {
    return streamMessage(buf, LoadedModel.codec(), opts)
  }
}

export interface HeldModel {
  name: string
  manifestDigest: Uint8Array<ArrayBuffer>
  size: bigint
  pulledAt: bigint
  vramEstimate: bigint
}

export namespace HeldModel {
  let _codec: Codec<HeldModel>

  export const codec = (): Codec<HeldModel> => {
    if (_codec == null) {
      _codec = message<HeldModel>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(10)
          w.string(obj.name)
        }

        if ((obj.manifestDigest != null && obj.manifestDigest.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.manifestDigest)
        }

        if ((obj.size != null && obj.size !== 0n)) {
          w.uint32(24)
          w.uint64(obj.size)
        }

        if ((obj.pulledAt != null && obj.pulledAt !== 0n)) {
          w.uint32(32)
          w.uint64(obj.pulledAt)
        }

        if ((obj.vramEstimate != null && obj.vramEstimate !== 0n)) {
          w.uint32(40)
          w.uint64(obj.vramEstimate)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          name: '',
          manifestDigest: uint8ArrayAlloc(0),
          size: 0n,
          pulledAt: 0n,
          vramEstimate: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.name = reader.string()
              break
            }
            case 2: {
              obj.manifestDigest = reader.bytes()
              break
            }
            case 3: {
              obj.size = reader.uint64()
              break
            }
            case 4: {
              obj.pulledAt = reader.uint64()
              break
            }
            case 5: {
              obj.vramEstimate = reader.uint64()
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
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.manifestDigest`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.size`,
                value: reader.uint64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.pulledAt`,
                value: reader.uint64()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.vramEstimate`,
                value: reader.uint64()
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

  export interface HeldModelNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface HeldModelManifestDigestFieldEvent {
    field: '$.manifestDigest'
    value: Uint8Array<ArrayBuffer>
  }

  export interface HeldModelSizeFieldEvent {
    field: '$.size'
    value: bigint
  }

  export interface HeldModelPulledAtFieldEvent {
    field: '$.pulledAt'
    value: bigint
  }

  export interface HeldModelVramEstimateFieldEvent {
    field: '$.vramEstimate'
    value: bigint
  }

  export function encode (obj: Partial<HeldModel>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, HeldModel.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<HeldModel>): HeldModel {
    return decodeMessage(buf, HeldModel.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<HeldModel>): Generator<HeldModelNameFieldEvent | HeldModelManifestDigestFieldEvent | HeldModelSizeFieldEvent | HeldModelPulledAtFieldEvent | HeldModelVramEstimateFieldEvent> {
    return streamMessage(buf, HeldModel.codec(), opts)
  }
}

export interface HeldBlob {
  digest: Uint8Array<ArrayBuffer>
  size: bigint
  complete: boolean
  bitmap: Uint8Array<ArrayBuffer>
  chunkMap: Uint8Array<ArrayBuffer>
  announced: AnnouncedChunk[]
  arriving: Uint8Array<ArrayBuffer>
}

export namespace HeldBlob {
  let _codec: Codec<HeldBlob>

  export const codec = (): Codec<HeldBlob> => {
    if (_codec == null) {
      _codec = message<HeldBlob>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.digest != null && obj.digest.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.digest)
        }

        if ((obj.size != null && obj.size !== 0n)) {
          w.uint32(16)
          w.uint64(obj.size)
        }

        if ((obj.complete != null && obj.complete !== false)) {
          w.uint32(24)
          w.bool(obj.complete)
        }

        if ((obj.bitmap != null && obj.bitmap.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.bitmap)
        }

        if ((obj.chunkMap != null && obj.chunkMap.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.chunkMap)
        }

        if (obj.announced != null && obj.announced.length > 0) {
          for (const value of obj.announced) {
            w.uint32(50)
            AnnouncedChunk.codec().encode(value, w)
          }
        }

        if ((obj.arriving != null && obj.arriving.byteLength > 0)) {
          w.uint32(58)
          w.bytes(obj.arriving)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          digest: uint8ArrayAlloc(0),
          size: 0n,
          complete: false,
          bitmap: uint8ArrayAlloc(0),
          chunkMap: uint8ArrayAlloc(0),
          announced: [],
          arriving: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.digest = reader.bytes()
              break
            }
            case 2: {
              obj.size = reader.uint64()
              break
            }
            case 3: {
              obj.complete = reader.bool()
              break
            }
            case 4: {
              obj.bitmap = reader.bytes()
              break
            }
            case 5: {
              obj.chunkMap = reader.bytes()
              break
            }
            case 6: {
              if (opts.limits?.announced != null && obj.announced.length === opts.limits.announced) {
                throw new MaxLengthError('Decode error - repeated field "announced" had too many elements')
              }

              obj.announced.push(AnnouncedChunk.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.announced$
              }))
              break
            }
            case 7: {
              obj.arriving = reader.bytes()
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
        const obj = {
          announced: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.digest`,
                value: reader.bytes()
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
                field: `${prefix}.complete`,
                value: reader.bool()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.bitmap`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.chunkMap`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
              if (opts.limits?.announced != null && obj.announced === opts.limits.announced) {
                throw new MaxLengthError('Streaming decode error - repeated field "announced" had too many elements')
              }

              for (const evt of AnnouncedChunk.codec().stream(reader, reader.uint32(), `${prefix}.announced[]`, {
                limits: opts.limits?.announced$
              })) {
                yield {
                  ...evt,
                  index: obj.announced
                }
              }

              obj.announced++

              break
            }
            case 7: {
              yield {
                field: `${prefix}.arriving`,
                value: reader.bytes()
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

  export interface HeldBlobDigestFieldEvent {
    field: '$.digest'
    value: Uint8Array<ArrayBuffer>
  }

  export interface HeldBlobSizeFieldEvent {
    field: '$.size'
    value: bigint
  }

  export interface HeldBlobCompleteFieldEvent {
    field: '$.complete'
    value: boolean
  }

  export interface HeldBlobBitmapFieldEvent {
    field: '$.bitmap'
    value: Uint8Array<ArrayBuffer>
  }

  export interface HeldBlobChunkMapFieldEvent {
    field: '$.chunkMap'
    value: Uint8Array<ArrayBuffer>
  }

  export interface HeldBlobAnnouncedIndexFieldEvent {
    field: '$.announced[].index'
    value: number
    index: number
  }

  export interface HeldBlobAnnouncedSha256FieldEvent {
    field: '$.announced[].sha256'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface HeldBlobArrivingFieldEvent {
    field: '$.arriving'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<HeldBlob>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, HeldBlob.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<HeldBlob>): HeldBlob {
    return decodeMessage(buf, HeldBlob.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<HeldBlob>): Generator<HeldBlobDigestFieldEvent | HeldBlobSizeFieldEvent | HeldBlobCompleteFieldEvent | HeldBlobBitmapFieldEvent | HeldBlobChunkMapFieldEvent | HeldBlobAnnouncedIndexFieldEvent | HeldBlobAnnouncedSha256FieldEvent | HeldBlobArrivingFieldEvent> {
    return streamMessage(buf, HeldBlob.codec(), opts)
  }
}

export interface AnnouncedChunk {
  index: number
  sha256: Uint8Array<ArrayBuffer>
}

export namespace AnnouncedChunk {
  let _codec: Codec<AnnouncedChunk>

  export const codec = (): Codec<AnnouncedChunk> => {
    if (_codec == null) {
      _codec = message<AnnouncedChunk>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(8)
          w.uint32(obj.index)
        }

        if ((obj.sha256 != null && obj.sha256.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.sha256)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          index: 0,
          sha256: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.index = reader.uint32()
              break
            }
            case 2: {
              obj.sha256 = reader.bytes()
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
                field: `${prefix}.index`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.sha256`,
                value: reader.bytes()
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

  export interface AnnouncedChunkIndexFieldEvent {
    field: '$.index'
    value: number
  }

  export interface AnnouncedChunkSha256FieldEvent {
    field: '$.sha256'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<AnnouncedChunk>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, AnnouncedChunk.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AnnouncedChunk>): AnnouncedChunk {
    return decodeMessage(buf, AnnouncedChunk.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AnnouncedChunk>): Generator<AnnouncedChunkIndexFieldEvent | AnnouncedChunkSha256FieldEvent> {
    return streamMessage(buf, AnnouncedChunk.codec(), opts)
  }
}

export interface SignedRecord {
  record: Uint8Array<ArrayBuffer>
  signature: Uint8Array<ArrayBuffer>
  publicKey: Uint8Array<ArrayBuffer>
}

export namespace SignedRecord {
  let _codec: Codec<SignedRecord>

  export const codec = (): Codec<SignedRecord> => {
    if (_codec == null) {
      _codec = message<SignedRecord>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.record != null && obj.record.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.record)
        }

        if ((obj.signature != null && obj.signature.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.signature)
        }

        if ((obj.publicKey != null && obj.publicKey.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.publicKey)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          record: uint8ArrayAlloc(0),
          signature: uint8ArrayAlloc(0),
          publicKey: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.record = reader.bytes()
              break
            }
            case 2: {
              obj.signature = reader.bytes()
              break
            }
            case 3: {
              obj.publicKey = reader.bytes()
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
                field: `${prefix}.record`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.signature`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.publicKey`,
                value: reader.bytes()
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

  export interface SignedRecordRecordFieldEvent {
    field: '$.record'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedRecordSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedRecordPublicKeyFieldEvent {
    field: '$.publicKey'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SignedRecord>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SignedRecord.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedRecord>): SignedRecord {
    return decodeMessage(buf, SignedRecord.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedRecord>): Generator<SignedRecordRecordFieldEvent | SignedRecordSignatureFieldEvent | SignedRecordPublicKeyFieldEvent> {
    return streamMessage(buf, SignedRecord.codec(), opts)
  }
}

export interface ClusterMessage {
  records: SignedRecord[]
  intents: SignedIntent[]
}

export namespace ClusterMessage {
  let _codec: Codec<ClusterMessage>

  export const codec = (): Codec<ClusterMessage> => {
    if (_codec == null) {
      _codec = message<ClusterMessage>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.records != null && obj.records.length > 0) {
          for (const value of obj.records) {
            w.uint32(10)
            SignedRecord.codec().encode(value, w)
          }
        }

        if (obj.intents != null && obj.intents.length > 0) {
          for (const value of obj.intents) {
            w.uint32(18)
            SignedIntent.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          records: [],
          intents: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.records != null && obj.records.length === opts.limits.records) {
                throw new MaxLengthError('Decode error - repeated field "records" had too many elements')
              }

              obj.records.push(SignedRecord.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.records$
              }))
              break
            }
            case 2: {
              if (opts.limits?.intents != null && obj.intents.length === opts.limits.intents) {
                throw new MaxLengthError('Decode error - repeated field "intents" had too many elements')
              }

              obj.intents.push(SignedIntent.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.intents$
              }))
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
        const obj = {
          records: 0,
          intents: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.records != null && obj.records === opts.limits.records) {
                throw new MaxLengthError('Streaming decode error - repeated field "records" had too many elements')
              }

              for (const evt of SignedRecord.codec().stream(reader, reader.uint32(), `${prefix}.records[]`, {
                limits: opts.limits?.records$
              })) {
                yield {
                  ...evt,
                  index: obj.records
                }
              }

              obj.records++

              break
            }
            case 2: {
              if (opts.limits?.intents != null && obj.intents === opts.limits.intents) {
                throw new MaxLengthError('Streaming decode error - repeated field "intents" had too many elements')
              }

              for (const evt of SignedIntent.codec().stream(reader, reader.uint32(), `${prefix}.intents[]`, {
                limits: opts.limits?.intents$
              })) {
                yield {
                  ...evt,
                  index: obj.intents
                }
              }

              obj.intents++

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

  export interface ClusterMessageRecordsRecordFieldEvent {
    field: '$.records[].record'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ClusterMessageRecordsSignatureFieldEvent {
    field: '$.records[].signature'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ClusterMessageRecordsPublicKeyFieldEvent {
    field: '$.records[].publicKey'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ClusterMessageIntentsIntentFieldEvent {
    field: '$.intents[].intent'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ClusterMessageIntentsSignatureFieldEvent {
    field: '$.intents[].signature'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ClusterMessageIntentsPublicKeyFieldEvent {
    field: '$.intents[].publicKey'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export function encode (obj: Partial<ClusterMessage>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ClusterMessage.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ClusterMessage>): ClusterMessage {
    return decodeMessage(buf, ClusterMessage.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ClusterMessage>): Generator<ClusterMessageRecordsRecordFieldEvent | ClusterMessageRecordsSignatureFieldEvent | ClusterMessageRecordsPublicKeyFieldEvent | ClusterMessageIntentsIntentFieldEvent | ClusterMessageIntentsSignatureFieldEvent | ClusterMessageIntentsPublicKeyFieldEvent> {
    return streamMessage(buf, ClusterMessage.codec(), opts)
  }
}

export interface SyncRequest {
  have: Version[]
  intentsDigest: Uint8Array<ArrayBuffer>
}

export namespace SyncRequest {
  let _codec: Codec<SyncRequest>

  export const codec = (): Codec<SyncRequest> => {
    if (_codec == null) {
      _codec = message<SyncRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.have != null && obj.have.length > 0) {
          for (const value of obj.have) {
            w.uint32(10)
            Version.codec().encode(value, w)
          }
        }

        if ((obj.intentsDigest != null && obj.intentsDigest.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.intentsDigest)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          have: [],
          intentsDigest: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.have != null && obj.have.length === opts.limits.have) {
                throw new MaxLengthError('Decode error - repeated field "have" had too many elements')
              }

              obj.have.push(Version.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.have$
              }))
              break
            }
            case 2: {
              obj.intentsDigest = reader.bytes()
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
        const obj = {
          have: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.have != null && obj.have === opts.limits.have) {
                throw new MaxLengthError('Streaming decode error - repeated field "have" had too many elements')
              }

              for (const evt of Version.codec().stream(reader, reader.uint32(), `${prefix}.have[]`, {
                limits: opts.limits?.have$
              })) {
                yield {
                  ...evt,
                  index: obj.have
                }
              }

              obj.have++

              break
            }
            case 2: {
              yield {
                field: `${prefix}.intentsDigest`,
                value: reader.bytes()
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

  export interface SyncRequestHavePeerIdFieldEvent {
    field: '$.have[].peerId'
    value: string
    index: number
  }

  export interface SyncRequestHaveIncarnationFieldEvent {
    field: '$.have[].incarnation'
    value: bigint
    index: number
  }

  export interface SyncRequestHaveSequenceFieldEvent {
    field: '$.have[].sequence'
    value: bigint
    index: number
  }

  export interface SyncRequestIntentsDigestFieldEvent {
    field: '$.intentsDigest'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SyncRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SyncRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SyncRequest>): SyncRequest {
    return decodeMessage(buf, SyncRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SyncRequest>): Generator<SyncRequestHavePeerIdFieldEvent | SyncRequestHaveIncarnationFieldEvent | SyncRequestHaveSequenceFieldEvent | SyncRequestIntentsDigestFieldEvent> {
    return streamMessage(buf, SyncRequest.codec(), opts)
  }
}

export interface Version {
  peerId: string
  incarnation: bigint
  sequence: bigint
}

export namespace Version {
  let _codec: Codec<Version>

  export const codec = (): Codec<Version> => {
    if (_codec == null) {
      _codec = message<Version>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.peerId != null && obj.peerId !== '')) {
          w.uint32(10)
          w.string(obj.peerId)
        }

        if ((obj.incarnation != null && obj.incarnation !== 0n)) {
          w.uint32(16)
          w.uint64(obj.incarnation)
        }

        if ((obj.sequence != null && obj.sequence !== 0n)) {
          w.uint32(24)
          w.uint64(obj.sequence)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          peerId: '',
          incarnation: 0n,
          sequence: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.peerId = reader.string()
              break
            }
            case 2: {
              obj.incarnation = reader.uint64()
              break
            }
            case 3: {
              obj.sequence = reader.uint64()
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
                field: `${prefix}.peerId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.incarnation`,
                value: reader.uint64()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.sequence`,
                value: reader.uint64()
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

  export interface VersionPeerIdFieldEvent {
    field: '$.peerId'
    value: string
  }

  export interface VersionIncarnationFieldEvent {
    field: '$.incarnation'
    value: bigint
  }

  export interface VersionSequenceFieldEvent {
    field: '$.sequence'
    value: bigint
  }

  export function encode (obj: Partial<Version>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Version.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Version>): Version {
    return decodeMessage(buf, Version.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Version>): Generator<VersionPeerIdFieldEvent | VersionIncarnationFieldEvent | VersionSequenceFieldEvent> {
    return streamMessage(buf, Version.codec(), opts)
  }
}

export interface SyncResponse {
  records: SignedRecord[]
  intents: SignedIntent[]
}

export namespace SyncResponse {
  let _codec: Codec<SyncResponse>

  export const codec = (): Codec<SyncResponse> => {
    if (_codec == null) {
      _codec = message<SyncResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.records != null && obj.records.length > 0) {
          for (const value of obj.records) {
            w.uint32(10)
            SignedRecord.codec().encode(value, w)
          }
        }

        if (obj.intents != null && obj.intents.length > 0) {
          for (const value of obj.intents) {
            w.uint32(18)
            SignedIntent.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          records: [],
          intents: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.records != null && obj.records.length === opts.limits.records) {
                throw new MaxLengthError('Decode error - repeated field "records" had too many elements')
              }

              obj.records.push(SignedRecord.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.records$
              }))
              break
            }
            case 2: {
              if (opts.limits?.intents != null && obj.intents.length === opts.limits.intents) {
                throw new MaxLengthError('Decode error - repeated field "intents" had too many elements')
              }

              obj.intents.push(SignedIntent.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.intents$
              }))
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
        const obj = {
          records: 0,
          intents: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.records != null && obj.records === opts.limits.records) {
                throw new MaxLengthError('Streaming decode error - repeated field "records" had too many elements')
              }

              for (const evt of SignedRecord.codec().stream(reader, reader.uint32(), `${prefix}.records[]`, {
                limits: opts.limits?.records$
              })) {
                yield {
                  ...evt,
                  index: obj.records
                }
              }

              obj.records++

              break
            }
            case 2: {
              if (opts.limits?.intents != null && obj.intents === opts.limits.intents) {
                throw new MaxLengthError('Streaming decode error - repeated field "intents" had too many elements')
              }

              for (const evt of SignedIntent.codec().stream(reader, reader.uint32(), `${prefix}.intents[]`, {
                limits: opts.limits?.intents$
              })) {
                yield {
                  ...evt,
                  index: obj.intents
                }
              }

              obj.intents++

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

  export interface SyncResponseRecordsRecordFieldEvent {
    field: '$.records[].record'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface SyncResponseRecordsSignatureFieldEvent {
    field: '$.records[].signature'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface SyncResponseRecordsPublicKeyFieldEvent {
    field: '$.records[].publicKey'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface SyncResponseIntentsIntentFieldEvent {
    field: '$.intents[].intent'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface SyncResponseIntentsSignatureFieldEvent {
    field: '$.intents[].signature'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface SyncResponseIntentsPublicKeyFieldEvent {
    field: '$.intents[].publicKey'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export function encode (obj: Partial<SyncResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SyncResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SyncResponse>): SyncResponse {
    return decodeMessage(buf, SyncResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SyncResponse>): Generator<SyncResponseRecordsRecordFieldEvent | SyncResponseRecordsSignatureFieldEvent | SyncResponseRecordsPublicKeyFieldEvent | SyncResponseIntentsIntentFieldEvent | SyncResponseIntentsSignatureFieldEvent | SyncResponseIntentsPublicKeyFieldEvent> {
    return streamMessage(buf, SyncResponse.codec(), opts)
  }
}
