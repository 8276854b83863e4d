/**
 * Scenarios: what happens between the lookup and the connection, address by
 * address — a block list over several addresses (Node skips a blocked one and
 * tries the next), a local bind that fails (reported as `bind`, before any
 * `'connectionAttempt'`), and a server's `maxConnections` set after `listen()`.
 */
import { listen, once, scenario, serverEvents, socketEvents, socketProps } from "../harness.ts"
import type { NetLike, Recorder, Scenario } from "../harness.ts"

type Answer = { address: string; family: number }

/**
 * A `lookup` option answering with `answers` (every one with `all`, the first without), on a later
 * turn: the attempts happen once the scenario watches the socket.
 */
const lookupOf = (answers: ReadonlyArray<Answer>) =>
(
  _host: string,
  options: { all?: boolean },
  cb: (err: Error | null, address: string | ReadonlyArray<Answer>, family?: number) => void
) => setImmediate(() => options.all === true ? cb(null, answers) : cb(null, answers[0]!.address, answers[0]!.family))

const blockListOf = (net: NetLike, ...addresses: ReadonlyArray<string>) => {
  const blockList = new net.BlockList()
  for (const a of addresses) blockList.addAddress(a)
  return blockList
}

/** Connects to a name with `answers`, recording the socket until it closes. */
const connectThrough = async (
  net: NetLike,
  rec: Recorder,
  port: number,
  answers: ReadonlyArray<Answer>,
  options: Record<string, unknown>
) => {
  const socket = rec.watch(
    "client",
    net.connect({ port, host: "sluice.test", lookup: lookupOf(answers), ...options } as never),
    socketEvents
  )
  socket.on("connect", () => {
    rec.log("client", "attempted", socket.autoSelectFamilyAttemptedAddresses)
    socket.end()
  })
  socket.resume()
  await once(socket, "close")
  rec.props("client", "closed", socket, socketProps)
}

/** A port nobody listens on (a server that listened there closed). */
const closedPort = async (net: NetLike) => {
  const server = net.createServer()
  const port = await listen(server)
  await new Promise((resolve) => server.close(resolve))
  return port
}

export const attemptScenarios: ReadonlyArray<Scenario> = [
  scenario("several addresses: a blocked one fails its attempt, the next is tried", async (net, rec) => {
    const server = rec.track(net.createServer((s) => s.end()))
    const port = await listen(server)
    await connectThrough(net, rec, port, [{ address: "127.0.0.2", family: 4 }, { address: "127.0.0.1", family: 4 }], {
      blockList: blockListOf(net, "127.0.0.2")
    })
  }),
  scenario("several addresses, the last one blocked: every attempt's error, aggregated", async (net, rec) => {
    const port = await closedPort(net)
    await connectThrough(net, rec, port, [{ address: "127.0.0.1", family: 4 }, { address: "127.0.0.2", family: 4 }], {
      blockList: blockListOf(net, "127.0.0.2")
    })
  }),
  scenario("several addresses, all blocked: an AggregateError of ERR_IP_BLOCKED", async (net, rec) => {
    await connectThrough(net, rec, 9, [{ address: "127.0.0.2", family: 4 }, { address: "127.0.0.3", family: 4 }], {
      blockList: blockListOf(net, "127.0.0.2", "127.0.0.3")
    })
  }),
  scenario("a local port that is taken: bind EADDRINUSE, no 'connectionAttempt'", async (net, rec) => {
    const server = rec.track(net.createServer((s) => s.end()))
    const port = await listen(server)
    const taken = rec.track(net.createServer())
    const localPort = await listen(taken)
    const socket = rec.watch(
      "client",
      net.connect({ port, host: "127.0.0.1", localAddress: "127.0.0.1", localPort }),
      socketEvents
    )
    await once(socket, "close")
    rec.props("client", "closed", socket, socketProps)
  }),
  scenario("several addresses with a local port that is taken: the binds fail silently", async (net, rec) => {
    const server = rec.track(net.createServer((s) => s.end()))
    const port = await listen(server)
    const taken = rec.track(net.createServer())
    const localPort = await listen(taken, "0.0.0.0")
    await connectThrough(net, rec, port, [{ address: "127.0.0.1", family: 4 }, { address: "127.0.0.2", family: 4 }], {
      localPort
    })
  }),
  scenario("maxConnections set after listen() applies to the next connection", async (net, rec) => {
    const server = rec.watch("server", net.createServer((s) => s.end()), serverEvents)
    const port = await listen(server)
    server.maxConnections = 0
    const first = rec.watch("client 1", net.connect(port, "127.0.0.1"), socketEvents)
    first.resume()
    await once(first, "close")
    server.maxConnections = 1
    const second = rec.watch("client 2", net.connect(port, "127.0.0.1"), socketEvents)
    second.resume()
    await once(second, "close")
    server.close()
    await once(server, "close")
  })
]
