export { plan, roomOf, rendezvous, ROOM_STEP, type Placement, type PlanInput, type PlanNode, type PlanModel, type PlanIntents } from './plan.js'
export { planInput, planNodes, planIntents, clusterModels, claimsKeep } from './view.js'
export { startActor, type Actor, type ActInit } from './act.js'
export { startJobRunner, JOB_TTL_MS, type JobRunner, type JobState, type JobIntent } from './jobs.js'
