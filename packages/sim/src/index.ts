/**
 * @sluice/sim — deterministic simulation of distributed Effect systems on Sluice's memory network.
 *
 * @since 0.1.0
 */
export * as Simulation from "./Simulation.ts"
