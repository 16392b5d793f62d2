/**
 * Node flags the daemon runs with. Why: V8's young generation grows to 3 × 16 MiB by default, and
 * a node moving chunks makes young garbage fast (one buffer per socket read and per noise
 * message), so a transfer lifted the receiver's RSS by ~20 MiB for no gain. 2 MiB semi-spaces
 * kept the peak under 150 MiB at the same CPU (bench:transfer). A daemon runs much code a little
 * (gossip, libp2p, records, chunk requests): with V8's default interrupt budget its optimizing
 * compiler took 16-22% of all CPU in a 16-host pull of fresh daemons, optimizing lukewarm code; a
 * 16x budget optimizes only what stays hot (bench:swarm, docs/benchmarks.md). Its live heap is
 * small (~30 MiB) and V8 set the old space's limit at ~1.3x of it, so during a pull a full mark
 * began every ~9 MiB promoted, each ~100 ms of a marking thread: a limit at 2x the live heap cut
 * a pull's time by ~6% at the same peak RSS (docs/benchmarks.md). These are process flags (V8
 * reads them at start), so `ollamad`'s shebang and `npm start` carry them too; a test keeps the
 * three in step.
 */
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=2', '--interrupt-budget=1081344', '--heap-growing-percent=100'] as const
