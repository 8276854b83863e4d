/**
 * @sluice/core — TCP and local sockets as Effect resources.
 *
 * @since 0.1.0
 */
export * as Address from "./Address.ts"
export * as Driver from "./Driver.ts"
export * as Engine from "./Engine.ts"
export * as Errno from "./Errno.ts"
export * as Framing from "./Framing.ts"
export * as Interop from "./Interop.ts"
export * as MemoryNetwork from "./MemoryNetwork.ts"
export * as NetError from "./NetError.ts"
export * as Network from "./Network.ts"
export * as Observability from "./Observability.ts"
export * as Server from "./Server.ts"
export * as Socket from "./Socket.ts"
export * as Testing from "./Testing.ts"
export * as Tls from "./Tls.ts"
