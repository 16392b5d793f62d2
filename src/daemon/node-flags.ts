/**
 * Node flags the daemon runs with. Why: V8's young generation grows to 3 × 16 MiB by default, and
 * a node moving chunks makes young garbage fast (one buffer per socket read and per noise
 * message), so a transfer lifted the receiver's RSS by ~20 MiB for no gain. 2 MiB semi-spaces
 * kept the peak under 150 MiB at the same CPU (bench:transfer). These are process flags (V8 sizes
 * the heap at start), so `ollamad`'s shebang and `npm start` carry them too; a test keeps the
 * three in step.
 */
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=2'] as const
