/**
 * `createNet(driver)`: Node's `net` module over any Sluice driver.
 *
 * The module it returns has the shape of `node:net` (`createServer`,
 * `connect`, `createConnection`, `Socket`, `Server`, `Stream`, `isIP`, ...);
 * its classes are bound to the driver, so legacy code written for
 * a `require` of `net` runs unchanged on real sockets (the node driver) or on an
 * in-process network (the memory driver).
 *
 * @since 0.1.0
 */
import * as Address from "@sluice/core/Address"
import type { Driver } from "@sluice/core/Driver"
import { BlockList } from "./BlockList.ts"
import { BoundSocket } from "./BoundSocket.ts"
import * as Validate from "./internal/validate.ts"
import { kSocket, Server as BaseServer } from "./Server.ts"
import type { ServerOpts } from "./Server.ts"
import { autoSelectDefaults, kDriver, normalizeArgs, Socket as BaseSocket } from "./Socket.ts"
import type { SocketConnectOpts, SocketConstructorOpts } from "./Socket.ts"
import { SocketAddress } from "./SocketAddress.ts"

/**
 * `true` when `input` is an IPv4 address.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isIPv4 = (input: unknown): boolean => Address.isIPv4(`${input}`)

/**
 * `true` when `input` is an IPv6 address.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isIPv6 = (input: unknown): boolean => Address.isIPv6(`${input}`)

/**
 * `4`, `6` or `0`.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isIP = (input: unknown): number => Address.isIP(`${input}`)

/**
 * `net.getDefaultAutoSelectFamily()`.
 *
 * @category defaults
 * @since 0.1.0
 */
export const getDefaultAutoSelectFamily = (): boolean => autoSelectDefaults.family

/**
 * `net.setDefaultAutoSelectFamily(value)`.
 *
 * @category defaults
 * @since 0.1.0
 */
export const setDefaultAutoSelectFamily = (value: boolean): void => {
  Validate.validateBoolean(value, "value")
  autoSelectDefaults.family = value
}

/**
 * `net.getDefaultAutoSelectFamilyAttemptTimeout()`.
 *
 * @category defaults
 * @since 0.1.0
 */
export const getDefaultAutoSelectFamilyAttemptTimeout = (): number => autoSelectDefaults.attemptTimeout

/**
 * `net.setDefaultAutoSelectFamilyAttemptTimeout(value)`.
 *
 * @category defaults
 * @since 0.1.0
 */
export const setDefaultAutoSelectFamilyAttemptTimeout = (value: number): void => {
  Validate.validateInt32(value, "value", 1)
  autoSelectDefaults.attemptTimeout = value < 10 ? 10 : value
}

/**
 * The module `createNet` returns: `node:net`'s members.
 *
 * @category models
 * @since 0.1.0
 */
export interface Net {
  readonly Socket: typeof BaseSocket
  readonly Stream: typeof BaseSocket
  readonly Server: typeof BaseServer
  readonly BlockList: typeof BlockList
  readonly SocketAddress: typeof SocketAddress
  readonly BoundSocket: typeof BoundSocket
  readonly createServer: {
    (connectionListener?: (socket: BaseSocket) => void): BaseServer
    (options?: ServerOpts, connectionListener?: (socket: BaseSocket) => void): BaseServer
  }
  readonly connect: ConnectFunction
  readonly createConnection: ConnectFunction
  readonly isIP: typeof isIP
  readonly isIPv4: typeof isIPv4
  readonly isIPv6: typeof isIPv6
  readonly getDefaultAutoSelectFamily: typeof getDefaultAutoSelectFamily
  readonly setDefaultAutoSelectFamily: typeof setDefaultAutoSelectFamily
  readonly getDefaultAutoSelectFamilyAttemptTimeout: typeof getDefaultAutoSelectFamilyAttemptTimeout
  readonly setDefaultAutoSelectFamilyAttemptTimeout: typeof setDefaultAutoSelectFamilyAttemptTimeout
  /** @internal Node's argument normaliser for `connect` / `listen`, which some libraries call. */
  readonly _normalizeArgs: typeof normalizeArgs
  /** The driver underneath. */
  readonly driver: Driver
}

/**
 * `net.connect` / `net.createConnection`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ConnectFunction {
  (options: SocketConnectOpts & SocketConstructorOpts, connectionListener?: () => void): BaseSocket
  (port: number, host?: string, connectionListener?: () => void): BaseSocket
  (path: string, connectionListener?: () => void): BaseSocket
}

/**
 * Node's `net.Socket` and `net.Server` are plain functions: `net.Socket()`
 * without `new` returns a socket, and pre-ES2015 subclasses initialise
 * themselves with `net.Socket.call(this, options)`. Classes cannot be called,
 * so the bound classes are wrapped: a call without a receiver constructs; a
 * call on an instance of a legacy subclass constructs one for it and moves its
 * state onto the receiver.
 */
const callable = <C extends abstract new(...args: Array<never>) => object>(Class: C): C =>
  new Proxy(Class, {
    apply(target, thisArg: unknown, args: Array<unknown>) {
      const construct = target as unknown as new(...args: Array<unknown>) => object
      if (typeof thisArg !== "object" || thisArg === null || !(thisArg instanceof construct)) {
        return Reflect.construct(construct, args)
      }
      const made = Reflect.construct(construct, args, (thisArg as { constructor: NewableFunction }).constructor)
      for (const key of Reflect.ownKeys(made)) {
        Object.defineProperty(thisArg, key, Object.getOwnPropertyDescriptor(made, key)!)
      }
      return undefined
    }
  })

/**
 * Builds Node's `net` module over a driver.
 *
 * @example
 * ```ts
 * import { createNet } from "@sluice/compat"
 * import { NodeDriver } from "@sluice/node-adapter"
 *
 * const net = createNet(NodeDriver.driver)
 * net.createServer((socket) => socket.pipe(socket)).listen(7000)
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const createNet = (driver: Driver): Net => {
  // the driver lives on the prototypes, where ES and util.inherits subclasses both find it. The classes are
  // named by their property (not `class Socket extends BaseSocket`, whose own name would shadow the base in the
  // `extends` clause once a bundler gives the base its original name: the packed build bundles compat)
  const Socket = callable({ Socket: class extends BaseSocket {} }.Socket)
  Object.defineProperty(Socket.prototype, kDriver, { value: driver })
  const Server = callable({ Server: class extends BaseServer {} }.Server)
  Object.defineProperty(Server.prototype, kDriver, { value: driver })
  Object.defineProperty(Server.prototype, kSocket, { value: Socket })
  function connect(...args: Array<unknown>): BaseSocket {
    const normalized = normalizeArgs(args)
    const options = normalized[0] as SocketConstructorOpts & { timeout?: number }
    const socket = new Socket(options)
    if (options.timeout) socket.setTimeout(options.timeout)
    return socket.connect(normalized as unknown as SocketConnectOpts)
  }
  function createServer(options?: unknown, connectionListener?: unknown): BaseServer {
    return new Server(options as ServerOpts, connectionListener as (socket: BaseSocket) => void)
  }
  return {
    Socket,
    Stream: Socket,
    Server,
    BlockList,
    SocketAddress,
    BoundSocket,
    createServer: createServer as Net["createServer"],
    connect: connect as ConnectFunction,
    createConnection: connect as ConnectFunction,
    isIP,
    isIPv4,
    isIPv6,
    getDefaultAutoSelectFamily,
    setDefaultAutoSelectFamily,
    getDefaultAutoSelectFamilyAttemptTimeout,
    setDefaultAutoSelectFamilyAttemptTimeout,
    _normalizeArgs: normalizeArgs,
    driver
  }
}
