/**
 * @sluice/sim — deterministic simulation of distributed Effect systems on Sluice's memory network.
 *
 * @since 0.1.0
 */
export * as Cluster from "./Cluster.ts"
export * as Simulation from "./Simulation.ts"
