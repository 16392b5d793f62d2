export { createClusterState, compareVersion, type ClusterState, type Member, type Liveness, type MergeResult } from './state.js'
export { startClusterService, type ClusterService, type NodeFacts } from './service.js'
export { signRecord, verifyRecord, decodeClusterMessage, NodeRecord, SignedRecord, ClusterMessage } from './record.js'
export * from './constants.js'
