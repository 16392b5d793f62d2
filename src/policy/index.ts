export { plan, roomOf, rendezvous, ROOM_STEP, type Placement, type PlanInput, type PlanNode, type PlanModel, type PlanIntents } from './plan.js'
export { planInput, planNodes, planIntents, clusterModels, claimsKeep } from './view.js'
export { createActor, type Actor, type ActComponents, type ActInit, type CacheLimits } from './act.js'
export { createJobRunner, waitForJob, JOB_TTL_MS, type JobRunner, type JobRunnerComponents, type JobState, type JobIntent } from './jobs.js'
export { createPolicy, DEFAULT_GRACE_MS, type Policy, type PolicyComponents, type PolicyInit, type ClusterControl } from './runtime.js'
export {
  resolveNode, clusterModel, replicate, pin, migrate, clusterDelete, rebalance, jobView, listJobs, createJob, cancelJob,
  type ControlView, type IntentWrite, type Move, type JobNode, type JobView
} from './control.js'
export { applySpec, type Change } from './apply.js'
