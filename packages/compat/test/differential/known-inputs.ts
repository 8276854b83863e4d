/**
 * Bad inputs known to have crashed compat or to have been checked
 * differently from `node:net`, as fixed cases of the bad-input sweep
 * (`inputs.ts`): each runs in the sweep's child processes, so that one that
 * aborts or throws an uncaught exception is reported as a failure of compat,
 * not as the end of the test run.
 */
import type { Case, ConnectForm, V } from "./inputs.ts"

const live: V = ["port", "live"]
const obj = (o: { readonly [key: string]: V }): V => ["object", o]
const str = (s: string): V => ["string", s]
const num = (n: number): V => ["number", n]
const forms: ReadonlyArray<ConnectForm> = ["net.connect", "net.createConnection", "socket.connect"]

/** `connect(options)` in every call form. */
const connectEverywhere = (name: string, options: V): ReadonlyArray<readonly [string, Case]> =>
  forms.map((form) => [`${name} (${form})`, { kind: "connect", form, socket: [], args: [options] }])

/** The cases, each with what it checks. */
export const knownInputs: ReadonlyArray<readonly [string, Case]> = [
  // hosts that are not strings: libuv aborted the process on an array or a boxed string
  ...connectEverywhere(
    "an array host is ERR_INVALID_ARG_TYPE, not an abort",
    obj({
      host: ["array", [str("127.0.0.1")]],
      port: live
    })
  ),
  ...connectEverywhere(
    "a boxed host is ERR_INVALID_ARG_TYPE, not an abort",
    obj({
      host: ["boxed", "127.0.0.1"],
      port: live
    })
  ),
  ...connectEverywhere(
    "an array host with a blockList throws as well (it was left connecting)",
    obj({
      host: ["array", [str("127.0.0.1")]],
      port: live,
      blockList: ["blockList", []]
    })
  ),
  ...connectEverywhere(
    "a host with a NUL byte is ERR_INVALID_ARG_VALUE",
    obj({ host: str("local\0host"), port: live })
  ),
  [
    "listen on an array host throws at once (it threw an uncaught exception on a later tick)",
    { kind: "listen", server: [], args: [obj({ host: ["array", [str("127.0.0.1")]], port: num(0) })] }
  ],
  [
    "listen on a boxed host throws at once",
    { kind: "listen", server: [], args: [obj({ host: ["boxed", "127.0.0.1"], port: num(0) })] }
  ],
  [
    "createServer({ highWaterMark: -1 }) takes the default (the first connection threw an uncaught exception)",
    { kind: "createServer", args: [obj({ highWaterMark: num(-1) })] }
  ],
  // validated as Node validates, with Node's names
  ...(["5", "4.5", "'4'"] as const).flatMap((family) =>
    connectEverywhere(
      `family ${family} with a host name is dns.lookup's ERR_INVALID_ARG_VALUE`,
      obj({
        host: str("localhost"),
        port: live,
        family: family === "'4'" ? str("4") : num(Number(family))
      })
    )
  ),
  [
    "typeOfService is checked as options.typeOfService",
    { kind: "socket", args: [obj({ typeOfService: num(256) })] }
  ],
  ["blockList: null is accepted", { kind: "socket", args: [obj({ blockList: ["null"] })] }],
  [
    "validation order: typeOfService before blockList",
    { kind: "socket", args: [obj({ typeOfService: num(4.5), blockList: obj({}) })] }
  ],
  [
    "validation order: the descriptor before typeOfService",
    { kind: "socket", args: [obj({ fd: str("3"), typeOfService: num(4.5) })] }
  ],
  [
    "an aborted signal: the socket is usable again after construction, as Node's",
    { kind: "socket", args: [obj({ signal: ["signal", "aborted"] })] }
  ],
  // lookups
  ...connectEverywhere(
    "a lookup that calls back twice: EALREADY on the one handle",
    obj({
      host: str("sluice.test"),
      port: live,
      lookup: ["lookup", "twice"]
    })
  ),
  [
    "a lookup that calls back twice, later: the second answer is reported on the connected socket",
    {
      kind: "connect",
      form: "net.connect",
      socket: [],
      args: [
        obj({
          host: str("sluice.test"),
          port: live,
          lookup: ["lookup", "twiceAsync"],
          autoSelectFamily: ["boolean", false]
        })
      ]
    }
  ],
  [
    "a lookup answering no address for `all`: Node's TypeError",
    {
      kind: "connect",
      form: "net.connect",
      socket: [],
      args: [obj({ host: str("sluice.test"), port: live, lookup: ["lookup", "empty"] })]
    }
  ],
  [
    "a lookup answering a string for `all`: one 'lookup' per character, then ERR_INVALID_IP_ADDRESS",
    {
      kind: "connect",
      form: "net.connect",
      socket: [],
      args: [obj({ host: str("sluice.test"), port: live, lookup: ["lookup", "stringWhenAll"] })]
    }
  ],
  [
    "a lookup answering family 5: ERR_INVALID_ADDRESS_FAMILY with host and port",
    {
      kind: "connect",
      form: "net.connect",
      socket: [],
      args: [obj({ host: str("sluice.test"), port: live, lookup: ["lookup", "badFamily"] })]
    }
  ],
  // a dial libuv refuses within the connect call (an IPv4-mapped address from a socket bound to ::1): no
  // 'connectionAttemptFailed', and the message names the bound address (found by the generated sweep)
  ...connectEverywhere(
    "a dial refused within the connect call: ENETUNREACH - Local (::1:port), no connectionAttemptFailed",
    obj({ host: str("::ffff:127.0.0.1"), port: live, localAddress: str("::1") })
  ),
  // a bind that fails is 'bind', with no attempt events
  [
    "a taken local port: bind EADDRINUSE, no connectionAttempt",
    {
      kind: "connect",
      form: "socket.connect",
      socket: [],
      args: [obj({ host: str("127.0.0.1"), port: ["port", "closed"], localPort: live })]
    }
  ],
  [
    "a local address this host lacks: bind EADDRNOTAVAIL, no connectionAttempt",
    {
      kind: "connect",
      form: "socket.connect",
      socket: [],
      args: [obj({ host: str("127.0.0.1"), port: live, localAddress: str("1.2.3.4") })]
    }
  ],
  [
    "a local socket path with a NUL byte fails within connect(), as Node's",
    { kind: "connect", form: "net.connect", socket: [], args: [str("a\0b")] }
  ],
  // BlockList and SocketAddress
  [
    "BlockList.check with an unknown family checks it as IPv6",
    {
      kind: "blockList",
      ops: [{ op: "addAddress", args: [str("::1"), str("ipv6")] }, { op: "check", args: [str("::1"), str("foo")] }]
    }
  ],
  [
    "BlockList: an address added again is kept once, where it was, in its last form",
    {
      kind: "blockList",
      ops: [
        { op: "addAddress", args: [str("1.2.3.4")] },
        { op: "addSubnet", args: [str("10.0.0.0"), num(8)] },
        { op: "addAddress", args: [str("::ffff:1.2.3.4"), str("ipv6")] },
        { op: "check", args: [str("1.2.3.4")] }
      ]
    }
  ],
  [
    "BlockList.fromJSON checks its input",
    {
      kind: "blockList",
      ops: [
        { op: "fromJSON", args: [["array", [num(1)]]] },
        { op: "fromJSON", args: [str("{}")] },
        { op: "fromJSON", args: [["undefined"]] },
        { op: "fromJSON", args: [str("[\"Subnet: IPv4 1.2.3.4/40\"]")] },
        {
          op: "fromJSON",
          args: [["array", [str("Address: IPv6 ::ffff:1.2.3.4"), str("Range: IPv4 10.0.0.1-10.0.0.9")]]]
        }
      ]
    }
  ],
  [
    "BlockList: a range from an IPv4 to a non-mapped IPv6 address is accepted, as Node's partial order has it",
    { kind: "blockList", ops: [{ op: "addRange", args: [str("1.2.3.4"), ["socketAddress", "::1", "ipv6"]] }] }
  ],
  [
    "SocketAddress: an IPv4 address has no flow label",
    { kind: "socketAddress", op: "new", args: [obj({ address: str("1.2.3.4"), flowlabel: num(7) })] }
  ],
  [
    "SocketAddress: family null is refused",
    { kind: "socketAddress", op: "new", args: [obj({ family: ["null"] })] }
  ]
]
