/**
 * `@sluice/compat`: a drop-in `node:net` on Sluice's engine, over the node
 * driver. `import net from "@sluice/compat"` (or the named exports) replaces
 * a `require` of `net`; `createNet(driver)` builds the same module over any driver.
 *
 * @since 0.1.0
 */
import type * as NodeDriver from "@sluice/node-adapter/NodeDriver"
import { lazyDriver } from "./internal/lazyDriver.ts"
import { createNet } from "./net.ts"

import type { BlockList as BlockListClass } from "./BlockList.ts"
import type { Server as ServerClass } from "./Server.ts"
import type { Socket as SocketClass } from "./Socket.ts"
import type { SocketAddress as SocketAddressClass } from "./SocketAddress.ts"

export { fromSocket } from "./Adopt.ts"
export type { AdoptOptions } from "./Adopt.ts"
export type { BlockListLike, IPVersion } from "./BlockList.ts"
export type { BoundSocketOptions } from "./BoundSocket.ts"
export { createNet } from "./net.ts"
export type { ConnectFunction, Net } from "./net.ts"
export type { AddressInfo, ListenOptions, ServerOpts } from "./Server.ts"
export type {
  IpcSocketConnectOpts,
  LookupAddress,
  LookupOptions,
  NodeLookupFunction as LookupFunction,
  OnReadOpts,
  SetKeepAliveOptions,
  SocketConnectOpts,
  SocketConstructorOpts,
  TcpSocketConnectOpts
} from "./Socket.ts"
export type { SocketAddressInitOptions } from "./SocketAddress.ts"

/** `net.Socket` (the type of its instances). @category models @since 0.1.0 */
export type Socket = SocketClass
/** `net.Stream`, an alias of `net.Socket`. @category models @since 0.1.0 */
export type Stream = SocketClass
/** `net.Server`. @category models @since 0.1.0 */
export type Server = ServerClass
/** `net.BlockList`. @category models @since 0.1.0 */
export type BlockList = BlockListClass
/** `net.SocketAddress`. @category models @since 0.1.0 */
export type SocketAddress = SocketAddressClass

// The node driver is loaded at its first use (a socket, a server, a lookup), not at import: importing compat
// costs a process little (bench/README.md, "Import cost"). `require` of the driver's ES module is synchronous.
const require = process.getBuiltinModule("node:module").createRequire(import.meta.url)
const driver = lazyDriver(() => (require("@sluice/node-adapter/NodeDriver") as typeof NodeDriver).driver)

/**
 * `node:net` over the node driver (loaded when first used).
 *
 * @category modules
 * @since 0.1.0
 */
const net = createNet(driver)

export default net

/** @category modules @since 0.1.0 */
export const {
  Socket,
  Stream,
  Server,
  BlockList,
  SocketAddress,
  BoundSocket,
  createServer,
  connect,
  createConnection,
  isIP,
  isIPv4,
  isIPv6,
  getDefaultAutoSelectFamily,
  setDefaultAutoSelectFamily,
  getDefaultAutoSelectFamilyAttemptTimeout,
  setDefaultAutoSelectFamilyAttemptTimeout,
  _normalizeArgs
} = net
