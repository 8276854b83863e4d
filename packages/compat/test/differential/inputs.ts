/**
 * The generated bad-input sweep: odd and bad values handed to every entry
 * point of `net` (constructor options, `connect` and `listen` in every call
 * form, `createServer` options, the socket setters, `BlockList`,
 * `SocketAddress`, the module functions), each case run once on `node:net` and
 * once on compat, in child processes (`fixtures/input-child.ts`, driven by
 * `children.ts`), with the outcomes compared.
 *
 * A case is plain JSON (it crosses a pipe to the children): every value is a
 * {@link V} spec that the child turns into the real value with the module under
 * test (a `BlockList` is that module's), so that `undefined`, `NaN`, `-0`,
 * symbols, boxed strings, arrays, functions and the rest all survive the trip.
 * Every value a case can hold is safe for the machine: hosts are loopback
 * addresses, names that resolve locally, or values that fail validation before
 * any lookup (no query leaves the host); a bind that succeeds is on loopback or
 * on a path in the child's temporary directory; a descriptor is never one the
 * child owns; an idle timeout that could fire during a case is never set.
 */
import * as fc from "fast-check"
import * as NodeNet from "node:net"
import { inspect } from "node:util"
import { once, scenario, serverEvents, socketEvents } from "./harness.ts"
import type { NetLike, Recorder, Scenario } from "./harness.ts"

// ---------------------------------------------------------------------------
// values
// ---------------------------------------------------------------------------

/** What a generated function does when called. */
export type FnKind = "listener" | "noop" | "throws"

/** How a generated `lookup` answers (for the `all` form when asked for it, unless the kind says otherwise). */
export type LookupKind =
  | "ok4"
  | "ok6"
  | "async4"
  | "twice"
  | "twiceAsync"
  | "error"
  | "errorAsync"
  | "errorWithoutCode"
  | "badAddress"
  | "nonStringAddress"
  | "badFamily"
  | "familyAsString"
  | "empty"
  | "stringWhenAll"
  | "multi"
  | "throws"

/** A value, as JSON. */
export type V =
  | readonly ["undefined"]
  | readonly ["null"]
  | readonly ["boolean", boolean]
  | readonly ["number", number | "NaN" | "Infinity" | "-Infinity" | "-0"]
  | readonly ["string", string]
  | readonly ["bigint", string]
  | readonly ["symbol", string]
  | readonly ["array", ReadonlyArray<V>]
  | readonly ["object", { readonly [key: string]: V }]
  | readonly ["nullProto", { readonly [key: string]: V }]
  | readonly ["boxed", string | number]
  | readonly ["toString", string]
  | readonly ["function", FnKind]
  | readonly ["lookup", LookupKind]
  | readonly ["blockList", ReadonlyArray<string>]
  | readonly ["socketAddress", string, "ipv4" | "ipv6"]
  | readonly ["signal", "aborted" | "live"]
  | readonly ["port", "live" | "closed" | "liveString"]
  | readonly ["path", "live" | "missing" | "fresh" | "abstract"]
  | readonly ["bytes", number]

const u: V = ["undefined"]
const num = (
  n: number
): V => ["number", Number.isNaN(n) ? "NaN" : n === Infinity ? "Infinity" : n === -Infinity ? "-Infinity" : n]
const str = (s: string): V => ["string", s]
const obj = (o: { readonly [key: string]: V }): V => ["object", o]

/** Where a case runs: the child's live servers and its temporary directory. */
export interface Context {
  readonly livePort: number
  readonly closedPort: number
  /** A unix socket a server listens on, relative to the child's working directory. */
  readonly livePath: string
  /** Unique to the child (its temporary directory's name): abstract socket names. */
  readonly token: string
  /** Counts fresh paths. */
  fresh: number
  /** Resolves once no `dns.lookup` is in flight (bounded). */
  readonly lookupsDone: () => Promise<void>
}

const lookupFn = (kind: LookupKind, rec: Recorder, actor: string) => {
  type Cb = (err: unknown, address?: unknown, family?: unknown) => void
  const answer = (all: boolean, cb: Cb, address: string, family: number) =>
    all ? cb(null, [{ address, family }]) : cb(null, address, family)
  return function lookup(hostname: unknown, options: { all?: boolean }, cb: Cb) {
    rec.log(actor, "lookup called", hostname, options)
    const all = options?.all === true
    switch (kind) {
      case "ok4":
        return answer(all, cb, "127.0.0.1", 4)
      case "ok6":
        return answer(all, cb, "::1", 6)
      case "async4":
        return setImmediate(() => answer(all, cb, "127.0.0.1", 4))
      case "twice":
        answer(all, cb, "127.0.0.1", 4)
        return answer(all, cb, "127.0.0.1", 4)
      case "twiceAsync":
        return setImmediate(() => {
          answer(all, cb, "127.0.0.1", 4)
          setImmediate(() => answer(all, cb, "127.0.0.1", 4))
        })
      case "error":
        return cb(Object.assign(new Error(`no such host ${String(hostname)}`), { code: "ENOTFOUND" }))
      case "errorAsync":
        return setImmediate(() => cb(Object.assign(new Error("try again"), { code: "EAI_AGAIN", syscall: "x" })))
      case "errorWithoutCode":
        return cb(new Error("plain failure"))
      case "badAddress":
        return answer(all, cb, "not-an-ip", 4)
      case "nonStringAddress":
        return all ? cb(null, [{ address: 127, family: 4 }]) : cb(null, 127, 4)
      case "badFamily":
        return answer(all, cb, "127.0.0.1", 5)
      case "familyAsString":
        return all ? cb(null, [{ address: "127.0.0.1", family: "4" }]) : cb(null, "127.0.0.1", "4")
      case "empty":
        return all ? cb(null, []) : cb(null, undefined, undefined)
      case "stringWhenAll":
        return cb(null, "127.0.0.1", 4)
      case "multi":
        return all
          ? cb(null, [{ address: "127.0.0.1", family: 4 }, { address: "127.0.0.1", family: 4 }])
          : cb(null, "127.0.0.1", 4)
      case "throws":
        throw new Error("lookup threw")
    }
  }
}

/** Turns a spec into the value, with the module under test and the child's context. */
export const decode = (v: V, net: NetLike, ctx: Context, rec: Recorder, actor: string): unknown => {
  const d = (x: V) => decode(x, net, ctx, rec, actor)
  switch (v[0]) {
    case "undefined":
      return undefined
    case "null":
      return null
    case "boolean":
      return v[1]
    case "number":
      return v[1] === "NaN" ? NaN : v[1] === "Infinity" ? Infinity : v[1] === "-Infinity" ? -Infinity : v[1] === "-0"
        ? -0
        : v[1]
    case "string":
      return v[1]
    case "bigint":
      return BigInt(v[1])
    case "symbol":
      return Symbol(v[1])
    case "array":
      return v[1].map(d)
    case "object":
    case "nullProto": {
      const out: Record<string, unknown> = v[0] === "object" ? {} : Object.create(null)
      for (const [k, x] of Object.entries(v[1])) out[k] = d(x)
      return out
    }
    case "boxed":
      // oxlint-disable-next-line no-new-wrappers -- a boxed primitive is the point
      return typeof v[1] === "string" ? new String(v[1]) : new Number(v[1])
    case "toString": {
      const s = v[1]
      return { toString: () => s }
    }
    case "function":
      switch (v[1]) {
        case "listener":
          return function listener(...args: Array<unknown>) {
            rec.log(actor, "listener called", args.length)
          }
        case "noop":
          return function noop() {}
        case "throws":
          return function thrower() {
            throw new Error("a listener threw")
          }
      }
      break
    case "lookup":
      return lookupFn(v[1], rec, actor)
    case "blockList": {
      const list = new net.BlockList()
      for (const rule of v[1]) {
        if (rule.includes("/")) list.addSubnet(rule.split("/")[0]!, Number(rule.split("/")[1]), ipv(rule))
        else list.addAddress(rule, ipv(rule))
      }
      return list
    }
    case "socketAddress":
      return new net.SocketAddress({ address: v[1], family: v[2] })
    case "signal": {
      const controller = new AbortController()
      if (v[1] === "aborted") controller.abort()
      return controller.signal
    }
    case "port":
      return v[1] === "live" ? ctx.livePort : v[1] === "closed" ? ctx.closedPort : String(ctx.livePort)
    case "path":
      switch (v[1]) {
        case "live":
          return ctx.livePath
        case "missing":
          return `${rec.tmp}/missing.sock`
        case "fresh":
          return `${rec.tmp}/fresh-${ctx.fresh++}.sock`
        case "abstract":
          return `\0${ctx.token}-${ctx.fresh++}`
      }
      break
    case "bytes":
      return Buffer.alloc(v[1])
  }
  throw new Error(`unknown value spec ${JSON.stringify(v)}`)
}

const ipv = (address: string): "ipv4" | "ipv6" => (address.includes(":") ? "ipv6" : "ipv4")

/** A spec as JavaScript source, for failure messages. */
export const showValue = (v: V): string => {
  switch (v[0]) {
    case "undefined":
    case "null":
      return v[0]
    case "boolean":
      return String(v[1])
    case "number":
      return typeof v[1] === "number" ? String(v[1]) : v[1]
    case "string":
      return inspect(v[1])
    case "bigint":
      return `${v[1]}n`
    case "symbol":
      return `Symbol(${inspect(v[1])})`
    case "array":
      return `[${v[1].map(showValue).join(", ")}]`
    case "object":
    case "nullProto": {
      const body = Object.entries(v[1]).map(([k, x]) => `${k}: ${showValue(x)}`).join(", ")
      return v[0] === "object" ? `{ ${body} }` : `{ __proto__: null, ${body} }`
    }
    case "boxed":
      return typeof v[1] === "string" ? `new String(${inspect(v[1])})` : `new Number(${v[1]})`
    case "toString":
      return `{ toString: () => ${inspect(v[1])} }`
    case "function":
      return `<function ${v[1]}>`
    case "lookup":
      return `<lookup ${v[1]}>`
    case "blockList":
      return `<BlockList ${v[1].join(" ")}>`
    case "socketAddress":
      return `<SocketAddress ${v[1]} ${v[2]}>`
    case "signal":
      return `<AbortSignal ${v[1]}>`
    case "port":
      return `<${v[1]} port>`
    case "path":
      return `<${v[1]} path>`
    case "bytes":
      return `<Buffer ${v[1]} bytes>`
  }
}

// ---------------------------------------------------------------------------
// cases
// ---------------------------------------------------------------------------

/** How `connect` is called. */
export type ConnectForm = "net.connect" | "net.createConnection" | "socket.connect"

/** A socket method that takes arguments. */
export type Setter = "setTimeout" | "setNoDelay" | "setKeepAlive" | "setTypeOfService"

/** A `BlockList` method call. */
export interface BlockListOp {
  readonly op: string
  readonly args: ReadonlyArray<V>
}

/** One generated case. */
export type Case =
  | {
    readonly kind: "connect"
    readonly form: ConnectForm
    readonly socket: ReadonlyArray<V>
    readonly args: ReadonlyArray<V>
  }
  | { readonly kind: "listen"; readonly server: ReadonlyArray<V>; readonly args: ReadonlyArray<V> }
  | { readonly kind: "createServer"; readonly args: ReadonlyArray<V> }
  | { readonly kind: "socket"; readonly args: ReadonlyArray<V> }
  | {
    readonly kind: "setter"
    readonly connected: boolean
    readonly method: Setter
    readonly args: ReadonlyArray<V>
  }
  | { readonly kind: "blockList"; readonly ops: ReadonlyArray<BlockListOp> }
  | {
    readonly kind: "socketAddress"
    readonly op: "new" | "parse" | "isSocketAddress"
    readonly args: ReadonlyArray<V>
  }
  | { readonly kind: "module"; readonly fn: string; readonly args: ReadonlyArray<V> }
  | { readonly kind: "boundSocket"; readonly args: ReadonlyArray<V> }

const call = (args: ReadonlyArray<V>) => args.map(showValue).join(", ")

/** A case as JavaScript source, for failure messages. */
export const showCase = (c: Case): string => {
  switch (c.kind) {
    case "connect":
      return c.form === "socket.connect"
        ? `new net.Socket(${call(c.socket)}).connect(${call(c.args)})`
        : `${c.form}(${call(c.args)})`
    case "listen":
      return `net.createServer(${call(c.server)}).listen(${call(c.args)})`
    case "createServer":
      return `net.createServer(${call(c.args)}), then a client connects`
    case "socket":
      return `new net.Socket(${call(c.args)})`
    case "setter":
      return `${c.connected ? "a connected socket" : "new net.Socket()"}.${c.method}(${call(c.args)})`
    case "blockList":
      return `const b = new net.BlockList(); ${c.ops.map((o) => `b.${o.op}(${call(o.args)})`).join("; ")}`
    case "socketAddress":
      return c.op === "new" ? `new net.SocketAddress(${call(c.args)})` : `net.SocketAddress.${c.op}(${call(c.args)})`
    case "module":
      return `net.${c.fn}(${call(c.args)})`
    case "boundSocket":
      return `new net.BoundSocket(${call(c.args)})`
  }
}

// ---------------------------------------------------------------------------
// value pools
// ---------------------------------------------------------------------------

/** Odd values of every type. */
const oddValues: ReadonlyArray<V> = [
  u,
  ["null"],
  ["boolean", true],
  ["boolean", false],
  num(0),
  ["number", "-0"],
  num(-1),
  num(1.5),
  num(NaN),
  num(Infinity),
  num(-Infinity),
  num(2 ** 31),
  num(2 ** 32),
  num(65536),
  num(1e21),
  str(""),
  str(" "),
  str("0"),
  str("-1"),
  str("1.5"),
  str("0x10"),
  str("a\0b"),
  str("x".repeat(40)),
  str("it's"),
  ["bigint", "5"],
  ["symbol", "odd"],
  ["array", []],
  ["array", [str("127.0.0.1")]],
  obj({}),
  ["nullProto", {}],
  ["boxed", "127.0.0.1"],
  ["boxed", 4],
  ["toString", "127.0.0.1"],
  ["function", "noop"]
]

const isSmallTimer = (v: V): boolean => v[0] === "number" && typeof v[1] === "number" && v[1] > 0 && v[1] < 1e6
const isStringy = (v: V): boolean => v[0] === "string"
const isNumber = (v: V): boolean => v[0] === "number"

/** The odd values `keep` accepts. */
const oddWhere = (keep: (v: V) => boolean): ReadonlyArray<V> => oddValues.filter(keep)

/** Odd values safe where a string would be looked up as a host name: only strings that fail validation. */
const oddHosts = oddWhere((v) => !isStringy(v) || v[1] === "" || String(v[1]).includes("\0"))
/** Odd values safe for a timer: none that fires during a case. */
const oddTimers = oddWhere((v) => !isSmallTimer(v))
/** Odd values safe for a port: none that names a fixed port (`"0x10"` is port 16, which both children could bind). */
const oddPorts = oddWhere((v) => !(v[0] === "string" && v[1] === "0x10"))
/** Odd values a backlog can take: none that cannot become a number (Node throws from inside its lookup callback). */
const oddBacklogs = oddWhere((v) => v[0] !== "symbol" && v[0] !== "bigint" && v[0] !== "nullProto")

/**
 * One option: the values that pass (`good`), and those that are bad or odd
 * (`bad`, the odd values of every type unless the field narrows them).
 */
interface Field {
  readonly good: ReadonlyArray<V>
  readonly bad: ReadonlyArray<V>
}
const field = (good: ReadonlyArray<V>, bad: ReadonlyArray<V>, odd: ReadonlyArray<V> | false = oddValues): Field => ({
  good,
  bad: [...bad, ...(odd === false ? [] : odd)]
})

/**
 * An options object: up to `maxGood` fields with good values and up to
 * `maxBad` with bad ones, so that each validator is met alone and with one
 * other (their order).
 */
const optionsOf = (
  fields: Record<string, Field>,
  maxGood = 4,
  maxBad = 2,
  fixed: Record<string, V> = {}
): fc.Arbitrary<V> => {
  const keys = Object.keys(fields)
  return fc.tuple(fc.shuffledSubarray(keys, { maxLength: maxGood }), fc.shuffledSubarray(keys, { maxLength: maxBad }))
    .chain(([goods, bads]) => {
      const picks: Record<string, fc.Arbitrary<V>> = {}
      for (const k of goods) if (fields[k]!.good.length > 0) picks[k] = fc.constantFrom(...fields[k]!.good)
      for (const k of bads) if (fields[k]!.bad.length > 0) picks[k] = fc.constantFrom(...fields[k]!.bad)
      return fc.record(picks)
    })
    .map((picked): V => obj({ ...picked, ...fixed }))
}

const bool = field([["boolean", true], ["boolean", false], u], [])
const listenerV: V = ["function", "listener"]

/** Options of `new net.Socket()` (`handle` aside: adopting libuv handles is another sweep's business). */
const socketFields: Record<string, Field> = {
  allowHalfOpen: bool,
  readable: bool,
  writable: bool,
  // no descriptor is good: the child owns every one it has
  fd: field([], [num(-1), num(999), num(1.5), str("3"), num(NaN), num(2 ** 31), ["null"], obj({})], false),
  signal: field([["signal", "live"], ["signal", "aborted"], u], [obj({ aborted: ["boolean", false] })]),
  noDelay: bool,
  keepAlive: bool,
  keepAliveInitialDelay: field([num(0), num(1000), num(2500.7), num(-5), num(NaN)], [str("1000")]),
  blockList: field([["blockList", []], ["blockList", ["127.0.0.1"]], ["blockList", ["::1"]], ["null"], u], [obj({})]),
  typeOfService: field([num(0), num(8), num(255)], [num(256), num(-1), num(4.5), str("8"), num(NaN)]),
  onread: field([
    obj({ buffer: ["bytes", 4], callback: ["function", "noop"] }),
    obj({ buffer: ["function", "noop"], callback: ["function", "noop"] })
  ], [obj({ buffer: ["bytes", 4] }), obj({ callback: ["function", "noop"] }), str("onread")]),
  objectMode: field([["boolean", false], u], [["boolean", true], num(1)]),
  readableObjectMode: field([["boolean", false], u], [["boolean", true]]),
  writableObjectMode: field([["boolean", false], u], [["boolean", true]]),
  highWaterMark: field([num(16), num(0)], [num(-1), num(1.5), str("16")]),
  readableHighWaterMark: field([num(16)], [num(-1), str("16")]),
  writableHighWaterMark: field([num(16)], [num(-1)]),
  // a falsy handle is no handle, as Node's `if (options.handle)` (what a truthy one does: handle.test.ts, libuv.ts)
  handle: field([["null"], u, ["boolean", false], num(0), str("")], [], false)
}

/**
 * Options of `new net.BoundSocket()`, every bad value one that Node refuses
 * before it binds (a bound socket is Node's alone: compat's drivers bind
 * asynchronously, and compat throws `ENOTSUP` there; see the README).
 */
const boundSocketFields: Record<string, Field> = {
  host: field([str("127.0.0.1"), str("::1"), u], [
    str("localhost"),
    str(""),
    str("999.1.1.1"),
    str("a\0b"),
    num(1),
    obj({}),
    ["array", [str("127.0.0.1")]],
    ["boxed", "127.0.0.1"],
    ["symbol", "odd"]
  ], false),
  port: field([num(0), u], [
    num(-1),
    num(65536),
    num(1.5),
    num(NaN),
    num(Infinity),
    str("x"),
    str(" "),
    obj({}),
    ["bigint", "5"],
    ["symbol", "odd"]
  ], false),
  ipv6Only: field([["boolean", false], u], [num(1), str("true"), obj({})], false),
  reusePort: field([["boolean", false], u], [num(0), str("false"), obj({})], false),
  // no good path: a path that passes is bound in the child's working directory
  path: field([], [num(1), ["null"], ["boolean", true], obj({}), ["array", []]], false)
}

/** What `validateObject` refuses (any other object is options, and binds). */
const notAnObject = new Set(["null", "boolean", "number", "string", "bigint", "symbol", "array", "function"])

/** A `BoundSocket` options object with at least one bad field (so that neither module binds). */
const badBoundSocketOptions: fc.Arbitrary<V> = fc.tuple(
  fc.shuffledSubarray(Object.keys(boundSocketFields), { maxLength: 3 }),
  fc.shuffledSubarray(Object.keys(boundSocketFields), { minLength: 1, maxLength: 2 })
).chain(([goods, bads]) => {
  const picks: Record<string, fc.Arbitrary<V>> = {}
  for (const k of goods) {
    if (boundSocketFields[k]!.good.length > 0) picks[k] = fc.constantFrom(...boundSocketFields[k]!.good)
  }
  for (const k of bads) picks[k] = fc.constantFrom(...boundSocketFields[k]!.bad)
  return fc.record(picks)
}).map((picked): V => obj(picked))

const lookupKinds: ReadonlyArray<LookupKind> = [
  "ok4",
  "ok6",
  "async4",
  "twice",
  "twiceAsync",
  "error",
  "errorAsync",
  "errorWithoutCode",
  "badAddress",
  "nonStringAddress",
  "badFamily",
  "familyAsString",
  "empty",
  "stringWhenAll",
  "multi",
  "throws"
]

/** Options `connect` reads (a host, a port; a path has its own branch). */
const connectFields: Record<string, Field> = {
  // hosts never leave the machine: loopback addresses, names in the hosts file, values that fail validation
  host: field(
    [str("127.0.0.1"), str("::1"), str("localhost"), str("127.1"), str("::ffff:127.0.0.1")],
    [str("local\0host"), num(127), ["boolean", true]],
    oddHosts
  ),
  port: field([["port", "live"], ["port", "closed"], ["port", "liveString"]], [
    num(0),
    num(-1),
    num(65536),
    num(1.5),
    str(""),
    str(" "),
    str("abc"),
    ["null"]
  ], oddPorts),
  family: field([num(0), num(4), num(6), str("IPv4"), str("IPv6"), u], [num(5), str("4"), num(4.5), str("ipv4")]),
  hints: field([num(0), num(32), num(1024), u], [num(-1), str("32"), num(1.5), num(7)]),
  localAddress: field([str("127.0.0.1"), u], [str("::1"), str("1.2.3.4"), str("nope"), str("")]),
  localPort: field([num(0), u], [["port", "live"], num(-1), str("1"), num(70000)]),
  autoSelectFamily: bool,
  autoSelectFamilyAttemptTimeout: field([num(10), num(250), num(1), u], [num(0), num(-1), num(1.5), num(2 ** 31)]),
  timeout: field([num(0), num(1e7), u], [num(-1), str("100"), num(2 ** 31)], oddTimers)
}

/** Hosts that are not strings. */
const otherTypedHosts: ReadonlyArray<V> = [
  ["array", [str("127.0.0.1")]],
  ["array", [str("::1")]],
  ["boxed", "127.0.0.1"],
  ["toString", "127.0.0.1"],
  num(127),
  ["boolean", true],
  ["symbol", "host"],
  obj({}),
  ["function", "noop"],
  ["bigint", "1"]
]

/** A name only a custom `lookup` resolves. */
const lookupHost = str("sluice.test")
const lookupField = field(lookupKinds.map((k): V => ["lookup", k]), [str("lookup"), ["null"], obj({})])

const pathField = field([["path", "live"], ["path", "missing"]], [str(""), num(1), str("a\0b")], false)

/**
 * Node binds any number it is given as a local port (libuv coerces it), so a
 * case binds it on loopback: an odd numeric local port comes with a local
 * address of 127.0.0.1 (0 binds nothing, the live port is taken).
 */
const bindOnLoopback = (options: V): V => {
  if (options[0] !== "object") return options
  const o = options[1]
  const port = o["localPort"]
  const harmless = port === undefined || port[0] !== "number" || port[1] === 0 || port[1] === "NaN"
    || port[1] === "-0"
  return harmless ? options : obj({ ...o, localAddress: str("127.0.0.1") })
}

/** The options of `net.connect(options)`: socket and connect options together. */
const connectOptions: fc.Arbitrary<V> = fc.oneof(
  { weight: 4, arbitrary: optionsOf({ ...connectFields, ...socketFields }, 5, 2) },
  {
    // a host and a port, most often right
    weight: 3,
    arbitrary: fc.tuple(
      optionsOf({ ...connectFields, ...socketFields }, 3, 1),
      fc.constantFrom(...connectFields["host"]!.good),
      fc.constantFrom(...connectFields["port"]!.good)
    ).map(([o, host, port]): V => obj({ host, port, ...(o[1] as { [k: string]: V }) }))
  },
  {
    // a name and a custom lookup: the lookup paths
    weight: 4,
    arbitrary: fc.tuple(
      optionsOf({ ...connectFields, lookup: lookupField }, 3, 1, { host: lookupHost }),
      fc.constantFrom(...lookupField.good)
    ).map(([o, lookup]): V => obj({ lookup, port: ["port", "live"], ...(o[1] as { [k: string]: V }) }))
  },
  {
    // a local socket path
    weight: 1,
    arbitrary: optionsOf({ ...socketFields, path: pathField }, 3, 1).map((o) =>
      obj({ path: ["path", "live"], ...(o[1] as { [k: string]: V }) })
    )
  },
  {
    // a host of another type (an array or a boxed string once aborted the process in libuv)
    weight: 1,
    arbitrary: fc.tuple(
      fc.constantFrom(...otherTypedHosts),
      fc.constantFrom(...connectFields["port"]!.good),
      optionsOf({ blockList: socketFields["blockList"]!, lookup: lookupField, family: connectFields["family"]! }, 1, 0)
    ).map(([host, port, o]): V => obj({ ...(o[1] as { [k: string]: V }), host, port }))
  },
  { weight: 1, arbitrary: fc.constantFrom(...oddHosts) }
).map(bindOnLoopback)

const listener = fc.constantFrom<ReadonlyArray<V>>([], [listenerV])
const pick = (f: Field, badWeight = 1): fc.Arbitrary<V> =>
  f.bad.length === 0
    ? fc.constantFrom(...f.good)
    : fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...f.good) }, {
      weight: badWeight,
      arbitrary: fc.constantFrom(...f.bad)
    })

/** Arguments of `connect` in every call form. */
const connectArgs: fc.Arbitrary<ReadonlyArray<V>> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(connectOptions, listener).map(([o, l]) => [o, ...l]) },
  {
    weight: 2,
    arbitrary: fc.tuple(
      pick(connectFields["port"]!),
      fc.option(pick(connectFields["host"]!).filter(isStringy), { nil: undefined }),
      listener
    ).map(([p, h, l]) => [p, ...(h === undefined ? [] : [h]), ...l])
  },
  { weight: 1, arbitrary: fc.tuple(pick(pathField), listener).map(([p, l]) => [p, ...l]) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...oddWhere((v) => !isSmallTimer(v))), { maxLength: 3 }) }
)

/** Listening hosts: loopback, or values that fail validation before a lookup. */
const listenHost = field([str("127.0.0.1"), str("::1"), str("localhost"), str("127.1")], [
  str("local\0host"),
  ["array", [str("127.0.0.1")]],
  ["boxed", "127.0.0.1"],
  ["toString", "127.0.0.1"],
  num(127),
  ["boolean", true],
  ["symbol", "host"],
  obj({})
], false)
/** Ports with a loopback host. */
const listenPort = field([num(0), str("0"), ["null"], u], [
  ["port", "live"],
  ["port", "liveString"],
  num(-1),
  num(65536),
  num(1.5),
  str("abc"),
  str(" ")
], oddPorts)
/** Ports that never bind where no host is given: taken, or refused by validation. */
const portWithoutHost = field([], [
  ["port", "live"],
  ["port", "liveString"],
  num(-1),
  num(65536),
  num(1.5),
  num(NaN),
  str("abc"),
  str(" "),
  str(""),
  ["boolean", true],
  ["array", []],
  obj({}),
  ["symbol", "port"],
  ["bigint", "5"]
], false)
const listenPath = field([["path", "fresh"], ["path", "abstract"], str("relative.sock")], [
  ["path", "live"],
  num(1),
  ["array", []],
  str("a\0b")
], false)
const listenFields: Record<string, Field> = {
  backlog: field([num(5), num(0), u], [num(-1), str("5"), num(2 ** 31), num(1.5)], oddBacklogs),
  exclusive: bool,
  reusePort: bool,
  readableAll: bool,
  writableAll: bool,
  signal: field([["signal", "live"], ["signal", "aborted"], u], [obj({}), str("signal")])
}
const ipv6Only = field([["boolean", false], u], [["boolean", true], num(1)])
const listenHandle = field([], [obj({}), obj({ fd: num(-1) }), obj({ fd: num(999) }), str("x"), ["null"]], false)
const listenFd = field([], [num(-1), num(999), num(1.5), str("3"), num(NaN), num(2 ** 31)], false)

/** The options of `listen(options)`: a loopback host, no host and a port that cannot bind, a path, a descriptor. */
const listenOptions: fc.Arbitrary<V> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.tuple(optionsOf({ ...listenFields, ipv6Only }, 3, 1), pick(listenHost), pick(listenPort)).map((
      [o, host, port]
    ): V => obj({ host, port, ...(o[1] as { [k: string]: V }) }))
  },
  {
    // without a host (every interface) only ports that cannot bind, and no IPv6-only socket (which could)
    weight: 2,
    arbitrary: fc.tuple(
      optionsOf(listenFields, 3, 1),
      fc.constantFrom(...portWithoutHost.bad),
      fc.constantFrom<V | undefined>(undefined, str(""), ["null"], num(0), ["boolean", false])
    ).map(([o, port, host]): V =>
      obj({ ...(o[1] as { [k: string]: V }), port, ...(host === undefined ? {} : { host }) })
    )
  },
  {
    weight: 2,
    arbitrary: fc.tuple(optionsOf(listenFields, 3, 1), pick(listenPath)).map(([o, path]): V =>
      obj({ path, ...(o[1] as { [k: string]: V }) })
    )
  },
  {
    weight: 1,
    arbitrary: fc.tuple(optionsOf(listenFields, 2, 1), fc.constantFrom(...listenFd.bad)).map(([o, fd]): V =>
      obj({ fd, ...(o[1] as { [k: string]: V }) })
    )
  },
  { weight: 1, arbitrary: fc.constantFrom(...listenHandle.bad).map((handle): V => obj({ handle })) },
  {
    // a host of another type
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom(...otherTypedHosts), fc.constantFrom(...listenPort.good)).map((
      [host, port]
    ): V => obj({ host, port }))
  }
)

const backlogs = pick(listenFields["backlog"]!)

/** Arguments of `listen` in every call form that cannot bind beyond loopback. */
const listenArgs: fc.Arbitrary<ReadonlyArray<V>> = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(listenOptions, listener).map(([o, l]) => [o, ...l]) },
  {
    weight: 2,
    arbitrary: fc.tuple(
      pick(listenPort),
      fc.constantFrom(...listenHost.good, str("local\0host")),
      fc.option(backlogs, { nil: undefined }),
      listener
    ).map(([p, h, b, l]) => [p, h, ...(b === undefined ? [] : [b]), ...l])
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom(...portWithoutHost.bad), fc.option(backlogs, { nil: undefined }), listener)
      .map(([p, b, l]) => [p, ...(b === undefined ? [] : [b]), ...l])
  },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.constantFrom(...listenPath.good, str("a\0b")),
      fc.option(backlogs, { nil: undefined }),
      listener
    ).map(([p, b, l]) => [p, ...(b === undefined ? [] : [b]), ...l])
  }
)

const serverFields: Record<string, Field> = {
  allowHalfOpen: bool,
  pauseOnConnect: bool,
  noDelay: bool,
  keepAlive: bool,
  keepAliveInitialDelay: field([num(0), num(1000), num(-5), num(2500.7)], [str("1000")]),
  highWaterMark: field([num(16), num(0), num(1024)], [num(-1), num(1.5), str("16"), num(-Infinity)]),
  blockList: field([["blockList", []], ["blockList", ["127.0.0.1"]], ["blockList", ["::1"]], ["null"], u], [
    obj({}),
    str("x")
  ])
}
const serverArgs: fc.Arbitrary<ReadonlyArray<V>> = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(optionsOf(serverFields, 4, 2), listener).map(([o, l]) => [o, ...l]) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<ReadonlyArray<V>>([], [listenerV], [u], [["null"]], [num(1)], [str("x")], [
      listenerV,
      listenerV
    ])
  }
)

const delays = field([num(0), num(1000), num(2500.7), num(-5), u], [str("1000")])
const setterArgs: Record<Setter, fc.Arbitrary<ReadonlyArray<V>>> = {
  setTimeout: fc.tuple(
    pick(field([num(0), num(1e7)], [num(-1), str("100"), num(2 ** 31), num(Infinity)], oddTimers)),
    fc.option(pick(field([listenerV, u], [str("cb"), ["null"], obj({})], false)), { nil: undefined })
  ).map(([t, cb]) => (cb === undefined ? [t] : [t, cb])),
  setNoDelay: fc.array(pick(field([["boolean", true], ["boolean", false]], [num(1), str("")])), { maxLength: 1 }),
  setKeepAlive: fc.oneof(
    fc.tuple(pick(bool), pick(delays)).map(([e, d]) => [e, d]),
    optionsOf(
      {
        enable: bool,
        initialDelay: delays,
        interval: delays,
        count: field([num(3)], [num(-1), str("3")])
      },
      4,
      1
    ).map((o) => [o]),
    fc.array(fc.constantFrom(...oddValues), { maxLength: 2 })
  ),
  setTypeOfService: fc.array(pick(socketFields["typeOfService"]!, 2), { maxLength: 1 })
}

const addressValues: ReadonlyArray<V> = [
  str("1.2.3.4"),
  str("10.0.0.1"),
  str("::1"),
  str("::ffff:1.2.3.4"),
  str("::ffff:10.0.0.1"),
  str("2001:db8::1"),
  str("256.1.1.1"),
  str("1.2.3"),
  str("abc"),
  str(""),
  str("1.2.3.4 "),
  ["socketAddress", "1.2.3.4", "ipv4"],
  ["socketAddress", "::1", "ipv6"],
  ["socketAddress", "::ffff:1.2.3.4", "ipv6"]
]
const addresses = pick(field(addressValues, []))
const blockFamilies = pick(field([str("ipv4"), str("ipv6"), u], [str("IPv6"), str("IPV4"), str("foo"), num(4)]))
const prefixes = pick(
  field([num(0), num(8), num(24), num(32), num(64), num(128)], [num(33), num(129), num(-1), str("8")])
)
const cidrs = pick(field([str("10.0.0.0/8"), str("::1/128"), str("2001:db8::/32"), str("::/0")], [
  str("1.2.3.4"),
  str("x/8"),
  str("10.0.0.0/33"),
  str("10.0.0.0/08"),
  str("10.0.0.0/"),
  str("1.2.3.4/-0"),
  str("::ffff:1.2.3.4/120"),
  str("1.2.3.4/ 8")
]))
const ruleLines = fc.constantFrom(
  "Address: IPv4 1.2.3.4",
  "Address: IPv6 ::1",
  "Range: IPv4 10.0.0.1-10.0.0.9",
  "Range: IPv6 ::1-::9",
  "Subnet: IPv4 192.168.0.0/16",
  "Subnet: IPv6 2001:db8::/32",
  "Subnet: IPv4 1.2.3.4/40",
  "Address: IPv4 999.1.1.1",
  "Address: IPv5 1.2.3.4",
  "Address: IPv6 ::ffff:1.2.3.4",
  "Range: IPv4 10.0.0.9-10.0.0.1",
  "nonsense",
  ""
)
const jsonData: fc.Arbitrary<V> = fc.oneof(
  fc.array(ruleLines, { maxLength: 3 }).map((lines): V => ["array", lines.map(str)]),
  fc.array(ruleLines, { maxLength: 3 }).map((lines): V => str(JSON.stringify(lines))),
  fc.constantFrom<V>(str("{}"), str("[1]"), str("\"x\""), ["array", [num(1)]], num(1), str("not json"), u, ["null"])
)
const withFamily = (
  args: ReadonlyArray<V>,
  f: V | undefined
): ReadonlyArray<V> => (f === undefined ? args : [...args, f])
const optFamily = fc.option(blockFamilies, { nil: undefined })

const blockListOp: fc.Arbitrary<BlockListOp> = fc.oneof(
  fc.tuple(addresses, optFamily).map(([a, f]) => ({ op: "addAddress", args: withFamily([a], f) })),
  fc.tuple(addresses, addresses, optFamily).map(([a, b, f]) => ({ op: "addRange", args: withFamily([a, b], f) })),
  fc.tuple(addresses, prefixes, optFamily).map(([a, p, f]) => ({ op: "addSubnet", args: withFamily([a, p], f) })),
  fc.tuple(
    fc.oneof(fc.array(addresses, { maxLength: 3 }).map((l): V => ["array", l]), fc.constantFrom(...oddValues)),
    optFamily
  ).map(([l, f]) => ({ op: "addAddresses", args: withFamily([l], f) })),
  cidrs.map((c) => ({ op: "addCIDR", args: [c] })),
  fc.oneof(fc.array(cidrs, { maxLength: 3 }).map((l): V => ["array", l]), fc.constantFrom(...oddValues)).map((
    l
  ) => ({ op: "addCIDRs", args: [l] })),
  fc.tuple(addresses, optFamily).map(([a, f]) => ({ op: "removeAddress", args: withFamily([a], f) })),
  fc.tuple(addresses, addresses, optFamily).map(([a, b, f]) => ({ op: "removeRange", args: withFamily([a, b], f) })),
  fc.tuple(addresses, prefixes, optFamily).map(([a, p, f]) => ({ op: "removeSubnet", args: withFamily([a, p], f) })),
  cidrs.map((c) => ({ op: "removeCIDR", args: [c] })),
  fc.tuple(addresses, optFamily).map(([a, f]) => ({ op: "check", args: withFamily([a], f) })),
  jsonData.map((d) => ({ op: "fromJSON", args: [d] })),
  fc.constant({ op: "clear", args: [] }),
  fc.constantFrom(...oddValues).map((x) => ({ op: "isBlockList", args: [x] }))
)

const socketAddressArgs: fc.Arbitrary<ReadonlyArray<V>> = fc.oneof(
  {
    weight: 4,
    arbitrary: optionsOf(
      {
        address: field([str("1.2.3.4"), str("::1"), str("0:0::1"), str("::ffff:1.2.3.4"), str("fe80::1%1")], [
          str("abc"),
          str("1.2.3")
        ]),
        family: field([str("ipv4"), str("ipv6")], [str("IPv6"), str("IPV4"), str("ipv5"), num(4)]),
        port: field([num(0), num(80), num(65535), str("80")], [num(65536), num(-1), num(1.5)]),
        // node:net 24 aborts on a flow label over 20 bits (IPv6) or from 2^31 to 2^32 - 1 (`flowlabel | 0` is
        // negative): native checks fail; compat throws there instead (test/crashes.test.ts)
        flowlabel: field(
          [num(0), num(7), num(2 ** 20 - 1)],
          [num(-1), num(2 ** 32), num(1.5)],
          oddWhere((v) => !(v[0] === "number" && typeof v[1] === "number" && v[1] >= 2 ** 20 && v[1] < 2 ** 32))
        )
      },
      4,
      1
    ).map((o) => [o])
  },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...oddValues), { maxLength: 1 }) }
)

const parseInputs = pick(field([
  str("1.2.3.4:80"),
  str("[::1]:8080"),
  str("1.2.3.4"),
  str("[::1]"),
  str("::1"),
  str("x:y"),
  str("1.2.3.4:65536"),
  str("1.2.3.4:-1"),
  str("[::1"),
  str("example.com:80"),
  str("01.2.3.4:80"),
  str("[::ffff:1.2.3.4]:1"),
  str("[fe80::1%1]:1")
], []))

/** One generated case. */
export const cases: fc.Arbitrary<Case> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.tuple(
      fc.constantFrom<ConnectForm>("net.connect", "net.createConnection", "socket.connect"),
      fc.oneof(fc.constant<ReadonlyArray<V>>([]), optionsOf(socketFields, 3, 1).map((o) => [o])),
      connectArgs
    ).map(([form, socket, args]): Case => ({
      kind: "connect",
      form,
      socket: form === "socket.connect" ? socket : [],
      args
    }))
  },
  {
    weight: 5,
    arbitrary: fc.tuple(fc.constantFrom<ReadonlyArray<V>>([], [obj({})]), listenArgs).map(([server, args]): Case => ({
      kind: "listen",
      server,
      args
    }))
  },
  { weight: 2, arbitrary: serverArgs.map((args): Case => ({ kind: "createServer", args })) },
  {
    weight: 2,
    arbitrary: fc.oneof(
      optionsOf(socketFields, 4, 2).map((o) => [o]),
      fc.constantFrom(...socketFields["fd"]!.bad).filter(isNumber).map((fd) => [fd]),
      fc.array(fc.constantFrom(...oddWhere((v) => !isNumber(v))), { maxLength: 1 })
    ).map((args): Case => ({ kind: "socket", args }))
  },
  {
    weight: 3,
    arbitrary: fc.tuple(
      fc.boolean(),
      fc.constantFrom<Setter>("setTimeout", "setNoDelay", "setKeepAlive", "setTypeOfService")
    ).chain(([connected, method]) =>
      setterArgs[method].map((args): Case => ({ kind: "setter", connected, method, args }))
    )
  },
  {
    weight: 3,
    arbitrary: fc.array(blockListOp, { minLength: 1, maxLength: 5 }).map((ops): Case => ({ kind: "blockList", ops }))
  },
  {
    weight: 2,
    arbitrary: fc.oneof(
      socketAddressArgs.map((args): Case => ({ kind: "socketAddress", op: "new", args })),
      parseInputs.map((input): Case => ({ kind: "socketAddress", op: "parse", args: [input] })),
      fc.constantFrom(...oddValues).map((x): Case => ({ kind: "socketAddress", op: "isSocketAddress", args: [x] }))
    )
  },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.constantFrom(
        "isIP",
        "isIPv4",
        "isIPv6",
        "setDefaultAutoSelectFamily",
        "setDefaultAutoSelectFamilyAttemptTimeout"
      ),
      fc.oneof(
        fc.constantFrom(...oddValues),
        addresses,
        fc.constantFrom<V>(num(10), num(5), num(1), ["boolean", false])
      )
    ).map(([fn, x]): Case => ({ kind: "module", fn, args: [x] }))
  },
  {
    weight: 1,
    arbitrary: fc.oneof(
      badBoundSocketOptions.map((o) => [o]),
      // not an object (an object without options would bind)
      fc.constantFrom(...oddWhere((v) => notAnObject.has(v[0])))
        .map((x) => [x])
    ).map((args): Case => ({ kind: "boundSocket", args }))
  }
)

// ---------------------------------------------------------------------------
// running a case
// ---------------------------------------------------------------------------

const capMs = 2000

/** Resolves on the first of `events` (or after `ms`, with `"cap"`). */
const first = (emitter: NodeJS.EventEmitter, events: ReadonlyArray<string>, ms = capMs): Promise<string> =>
  new Promise((resolve) => {
    const listeners = new Map<string, () => void>()
    const done = (what: string) => {
      clearTimeout(timer)
      for (const [e, l] of listeners) emitter.off(e, l)
      resolve(what)
    }
    const timer = setTimeout(() => done("cap"), ms)
    for (const e of events) {
      const l = () => done(e)
      listeners.set(e, l)
      emitter.once(e, l)
    }
  })

const socketState = ["connecting", "pending", "destroyed", "readyState", "readable", "writable"] as const

/**
 * Waits for a socket to close, destroying it once connected or when it hangs,
 * then for the lookups it started (an answer after close is reported too).
 */
const settleSocket = async (rec: Recorder, ctx: Context, actor: string, socket: NodeNet.Socket): Promise<void> => {
  if (!socket.closed) {
    const connected = socket.connecting || socket.pending ? await first(socket, ["connect", "close"]) : "connect"
    if (connected === "cap") {
      rec.props(actor, "still open", socket, socketState)
    }
    if (!socket.closed) {
      socket.destroy()
      if (!socket.closed) await first(socket, ["close"])
    }
  }
  await ctx.lookupsDone()
  await rec.ticks(3)
}

const runConnect = async (net: NetLike, ctx: Context, rec: Recorder, c: Extract<Case, { kind: "connect" }>) => {
  const actor = "client"
  const args = c.args.map((v) => decode(v, net, ctx, rec, actor))
  let socket: NodeNet.Socket | undefined
  if (c.form === "socket.connect") {
    const made = rec.attempt(
      actor,
      "new Socket",
      () => new net.Socket(...(c.socket.map((v) => decode(v, net, ctx, rec, actor)) as []))
    )
    if (made === undefined) return
    socket = rec.watch(actor, made as NodeNet.Socket, socketEvents)
    const threw = rec.attempt(actor, "connect", () => (socket!.connect as (...a: Array<unknown>) => unknown)(...args))
    if (threw === undefined) {
      // a connect that threw leaves the socket as it was then: nothing more will happen to it
      rec.props(actor, "after connect() threw", socket, socketState)
      socket.destroy()
      if (!socket.closed) await first(socket, ["close"])
      await rec.ticks(3)
      return
    }
  } else {
    const f = net[c.form === "net.connect" ? "connect" : "createConnection"] as (...a: Array<unknown>) => NodeNet.Socket
    const made = rec.attempt(actor, "connect", () => f(...args))
    if (made === undefined) return
    socket = rec.watch(actor, made as NodeNet.Socket, socketEvents)
  }
  rec.props(actor, "after connect()", socket, socketState)
  await settleSocket(rec, ctx, actor, socket)
  rec.props(actor, "at the end", socket, [...socketState, "bytesRead", "bytesWritten"])
}

const runListen = async (net: NetLike, ctx: Context, rec: Recorder, c: Extract<Case, { kind: "listen" }>) => {
  const actor = "server"
  const server = rec.watch(
    actor,
    net.createServer(...(c.server.map((v) => decode(v, net, ctx, rec, actor)) as [])),
    serverEvents
  )
  const args = c.args.map((v) => decode(v, net, ctx, rec, actor))
  const returned = rec.attempt(actor, "listen", () => (server.listen as (...a: Array<unknown>) => unknown)(...args))
  rec.props(actor, "after listen()", server, ["listening"])
  if (returned === undefined) {
    await rec.ticks(3)
    return
  }
  rec.log(actor, "listen returned the server", returned === server)
  const outcome = await first(server, ["listening", "error", "close"])
  if (outcome === "listening") {
    const a = server.address()
    rec.log(
      actor,
      "address",
      typeof a === "string" ? a : a === null ? null : { family: a.family, address: a.address, port: a.port }
    )
    rec.log(actor, "connection key", (server as unknown as { _connectionKey?: unknown })._connectionKey)
    server.close()
    await first(server, ["close"])
  } else if (outcome === "cap") {
    rec.props(actor, "still pending", server, ["listening"])
  }
  await rec.ticks(3)
  rec.props(actor, "at the end", server, ["listening"])
}

const runCreateServer = async (
  net: NetLike,
  ctx: Context,
  rec: Recorder,
  c: Extract<Case, { kind: "createServer" }>
) => {
  const actor = "server"
  const args = c.args.map((v) => decode(v, net, ctx, rec, actor))
  const made = rec.attempt(
    actor,
    "createServer",
    () => (net.createServer as (...a: Array<unknown>) => unknown)(...args)
  )
  if (made === undefined) return
  const server = rec.watch(actor, made as NodeNet.Server, serverEvents)
  rec.props(actor, "created", server, [
    "allowHalfOpen",
    "pauseOnConnect",
    "noDelay",
    "keepAlive",
    "keepAliveInitialDelay",
    "highWaterMark"
  ])
  server.listen(0, "127.0.0.1")
  await first(server, ["listening", "error"])
  const port = (server.address() as NodeNet.AddressInfo | null)?.port
  if (port === undefined) return
  const accepted = new Promise<NodeNet.Socket | undefined>((resolve) => {
    server.once("connection", (s: NodeNet.Socket) => resolve(s))
    setTimeout(() => resolve(undefined), capMs).unref()
  })
  // the peer is always node:net's
  const client = rec.track(NodeNet.connect(port, "127.0.0.1"))
  client.on("error", () => {})
  client.write("hello")
  const clientClosed = first(client, ["close"])
  const peer = await Promise.race([accepted, clientClosed.then(() => undefined)])
  if (peer !== undefined) {
    rec.track(peer)
    rec.props("peer", "accepted", peer, [
      "readableHighWaterMark",
      "writableHighWaterMark",
      "allowHalfOpen",
      "readableFlowing",
      "connecting",
      "readyState"
    ])
    rec.log("peer", "isPaused", peer.isPaused())
    peer.destroy()
  } else rec.log("peer", "none")
  await clientClosed
  server.close()
  await first(server, ["close"])
}

const connectedSocket = async (net: NetLike, ctx: Context, rec: Recorder): Promise<NodeNet.Socket> => {
  const socket = rec.track(net.connect(ctx.livePort, "127.0.0.1"))
  await once(socket, "connect")
  return socket
}

const runSetter = async (net: NetLike, ctx: Context, rec: Recorder, c: Extract<Case, { kind: "setter" }>) => {
  const actor = "client"
  const socket = c.connected ? await connectedSocket(net, ctx, rec) : rec.track(new net.Socket())
  rec.watch(actor, socket, ["timeout", "error", "close"])
  const args = c.args.map((v) => decode(v, net, ctx, rec, actor))
  const r = rec.attempt(actor, c.method, () => (socket[c.method] as (...a: Array<unknown>) => unknown)(...args))
  if (r !== undefined) rec.log(actor, "returned the socket", r === socket)
  rec.props(actor, "after", socket, ["timeout"])
  if (c.method === "setTypeOfService" && !c.connected) {
    rec.log(actor, "getTypeOfService", (socket as unknown as { getTypeOfService(): number }).getTypeOfService())
  }
  await rec.ticks(2)
  socket.destroy()
  await first(socket, ["close"])
}

const runBlockList = (net: NetLike, ctx: Context, rec: Recorder, c: Extract<Case, { kind: "blockList" }>) => {
  const actor = "blockList"
  const list = new net.BlockList() as unknown as Record<string, (...a: Array<unknown>) => unknown>
  for (const { op, args } of c.ops) {
    const values = args.map((v) => decode(v, net, ctx, rec, actor))
    const r = rec.attempt(actor, op, () =>
      op === "isBlockList"
        ? (net.BlockList as unknown as { isBlockList(x: unknown): boolean }).isBlockList(values[0])
        : list[op]!(...values))
    if (r !== undefined) rec.log(actor, `${op} result`, r)
  }
  // several address rules are listed in the order of Node's native hash table (compat: newest first), so
  // their order is not compared; subnets and ranges are (newest first)
  const rules = (list as unknown as { rules: Array<string> }).rules
  const addressRules = rules.filter((r) => r.startsWith("Address:")).toSorted()
  rec.log(actor, "rules", [...addressRules, ...rules.filter((r) => !r.startsWith("Address:"))])
  rec.log(actor, "size", (list as unknown as { size: unknown }).size)
  rec.log(actor, "toJSON is rules", JSON.stringify(list) === JSON.stringify(rules))
}

const runSocketAddress = (net: NetLike, ctx: Context, rec: Recorder, c: Extract<Case, { kind: "socketAddress" }>) => {
  const actor = "socketAddress"
  const args = c.args.map((v) => decode(v, net, ctx, rec, actor))
  const SA = net.SocketAddress as unknown as {
    new(...a: Array<unknown>): { toJSON(): unknown }
    parse(...a: Array<unknown>): { toJSON(): unknown } | undefined
    isSocketAddress(x: unknown): boolean
  }
  const r = rec.attempt(
    actor,
    c.op,
    () => c.op === "new" ? new SA(...args) : c.op === "parse" ? SA.parse(...args) : SA.isSocketAddress(args[0])
  )
  if (r !== undefined && typeof r === "object") {
    const a = r as { address: unknown; port: unknown; family: unknown; flowlabel: unknown; toJSON(): unknown }
    rec.log(actor, "value", a.address, a.port, a.family, a.flowlabel, a.toJSON())
  } else rec.log(actor, "result", r)
}

const runModule = (net: NetLike, ctx: Context, rec: Recorder, c: Extract<Case, { kind: "module" }>) => {
  const actor = "module"
  const args = c.args.map((v) => decode(v, net, ctx, rec, actor))
  const family = net.getDefaultAutoSelectFamily()
  const timeout = net.getDefaultAutoSelectFamilyAttemptTimeout()
  try {
    const r = rec.attempt(actor, c.fn, () => (net[c.fn as keyof NetLike] as (...a: Array<unknown>) => unknown)(...args))
    rec.log(actor, "result", r, net.getDefaultAutoSelectFamily(), net.getDefaultAutoSelectFamilyAttemptTimeout())
  } finally {
    net.setDefaultAutoSelectFamily(family)
    net.setDefaultAutoSelectFamilyAttemptTimeout(timeout)
  }
}

const runBoundSocket = (net: NetLike, ctx: Context, rec: Recorder, c: Extract<Case, { kind: "boundSocket" }>) => {
  const actor = "boundSocket"
  const args = c.args.map((v) => decode(v, net, ctx, rec, actor))
  const BS = (net as unknown as { BoundSocket: new(...a: Array<unknown>) => { close(): void } }).BoundSocket
  const made = rec.attempt(actor, "new BoundSocket", () => new BS(...args))
  if (made !== undefined) (made as { close(): void }).close()
}

const runSocket = async (net: NetLike, ctx: Context, rec: Recorder, c: Extract<Case, { kind: "socket" }>) => {
  const actor = "client"
  const args = c.args.map((v) => decode(v, net, ctx, rec, actor))
  const made = rec.attempt(
    actor,
    "new Socket",
    () => new (net.Socket as unknown as new(...a: Array<unknown>) => NodeNet.Socket)(...args)
  )
  if (made === undefined) return
  const socket = rec.watch(actor, made as NodeNet.Socket, socketEvents)
  rec.props(actor, "made", socket, [
    ...socketState,
    "allowHalfOpen",
    "readableHighWaterMark",
    "writableHighWaterMark",
    "readableObjectMode"
  ])
  rec.log(actor, "getTypeOfService", (socket as unknown as { getTypeOfService(): number }).getTypeOfService())
  await rec.ticks(2)
  socket.destroy()
  if (!socket.closed) await first(socket, ["close"])
  await rec.ticks(2)
}

/** The recorder of the case running now (for uncaught exceptions and warnings). */
export let currentRecorder: Recorder | undefined = undefined

/** A generated case as a differential scenario. */
export const caseScenario = (c: Case, ctx: Context): Scenario =>
  scenario(showCase(c), async (net, rec) => {
    currentRecorder = rec
    // names made for this case only (a child that was replaced after a crash starts over)
    ctx.fresh = 0
    try {
      switch (c.kind) {
        case "connect":
          return await runConnect(net, ctx, rec, c)
        case "listen":
          return await runListen(net, ctx, rec, c)
        case "createServer":
          return await runCreateServer(net, ctx, rec, c)
        case "socket":
          return await runSocket(net, ctx, rec, c)
        case "setter":
          return await runSetter(net, ctx, rec, c)
        case "blockList":
          return runBlockList(net, ctx, rec, c)
        case "socketAddress":
          return runSocketAddress(net, ctx, rec, c)
        case "module":
          return runModule(net, ctx, rec, c)
        case "boundSocket":
          return runBoundSocket(net, ctx, rec, c)
      }
    } finally {
      // let what the case scheduled run while it is still the current one, lookups included
      await ctx.lookupsDone()
      await rec.ticks(2)
    }
  })

/** Clears the current recorder (after a case's cleanup). */
export const endCase = (): void => {
  currentRecorder = undefined
}
