/**
 * The `Network` service over real sockets (`node:net`).
 *
 * @since 0.1.0
 */
import * as Network from "@sluice/core/Network"
import type * as Layer from "effect/Layer"
import { driver } from "./NodeDriver.ts"

/**
 * Provides `Network` over `node:net`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Network } from "@sluice/core"
 * import { NodeNetwork } from "@sluice/node-adapter"
 *
 * const program = Effect.scoped(Network.listen({ host: "127.0.0.1", port: 0 }))
 * Effect.runPromise(Effect.provide(program, NodeNetwork.layer))
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer: Layer.Layer<Network.Network> = Network.layer(driver)
