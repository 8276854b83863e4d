/**
 * `@sluice/compat`: a drop-in `node:net` on Sluice's engine, over the node
 * driver. `import net from "@sluice/compat"` (or the named exports) replaces
 * a `require` of `net`; `createNet(driver)` builds the same module over any driver.
 *
 * @since 0.1.0
 */
import { driver } from "@sluice/node-adapter/NodeDriver"
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

/**
 * `node:net` over the node driver.
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
