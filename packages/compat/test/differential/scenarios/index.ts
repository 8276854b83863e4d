/**
 * All hand-written scenarios.
 */
import type { Scenario } from "../harness.ts"
import { connectScenarios } from "./connect.ts"
import { socketScenarios } from "./socket.ts"

export const allScenarios: ReadonlyArray<Scenario> = [...connectScenarios, ...socketScenarios]
