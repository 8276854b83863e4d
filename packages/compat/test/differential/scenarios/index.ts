/**
 * All hand-written scenarios.
 */
import type { Scenario } from "../harness.ts"
import { attemptScenarios } from "./attempts.ts"
import { connectScenarios } from "./connect.ts"
import { edgeScenarios } from "./edges.ts"
import { errorScenarios } from "./errors.ts"
import { fdScenarios } from "./fd.ts"
import { handleScenarios } from "./handle.ts"
import { libuvScenarios } from "./libuv.ts"
import { listenScenarios } from "./listen.ts"
import { moduleScenarios } from "./module.ts"
import { observeScenarios } from "./observe.ts"
import { onreadScenarios } from "./onread.ts"
import { serverScenarios } from "./server.ts"
import { socketScenarios } from "./socket.ts"
import { writeScenarios } from "./writes.ts"

export const allScenarios: ReadonlyArray<Scenario> = [
  ...connectScenarios,
  ...attemptScenarios,
  ...socketScenarios,
  ...serverScenarios,
  ...moduleScenarios,
  ...edgeScenarios,
  ...fdScenarios,
  ...handleScenarios,
  ...libuvScenarios,
  ...errorScenarios,
  ...listenScenarios,
  ...onreadScenarios,
  ...observeScenarios,
  ...writeScenarios
]
