/**
 * Scenarios: what observers see — `diagnostics_channel` (`net.client.socket`,
 * `net.server.socket`, the tracing channel `net.server.listen`) and
 * `captureRejections`. Each channel message is logged in the trace of the
 * object it is about, so its order against that object's events is compared;
 * a message about an object the scenario did not make (a driver's own
 * `net.Server` or socket) is logged as `foreign`.
 */
import * as dc from "node:diagnostics_channel"
import { EventEmitter } from "node:events"
import type { Server, Socket } from "node:net"
import { accept, listen, once, scenario, serverEvents, socketEvents } from "../harness.ts"
import type { Recorder, Scenario } from "../harness.ts"

type Listen = { server: Server; options?: unknown; error?: Error }

/** Subscribes to the three channels for `f`'s duration; `actorOf` names the actor a message's object belongs to. */
const observing = async (
  rec: Recorder,
  actorOf: (x: unknown) => string | undefined,
  f: () => Promise<void>
): Promise<void> => {
  const where = (x: unknown) => actorOf(x) ?? "foreign"
  const client = (m: unknown) => {
    const socket = (m as { socket: Socket }).socket
    rec.log(where(socket), "net.client.socket", Object.keys(m as object), { connecting: socket.connecting })
    pendingClient = socket
  }
  const server = (m: unknown) => {
    const socket = (m as { socket: Socket }).socket
    rec.log(where(socket), "net.server.socket", Object.keys(m as object), {
      server: where((socket as unknown as { server: unknown }).server)
    })
  }
  let pendingClient: Socket | undefined
  const handlers = {
    start: (m: unknown) => rec.log(where((m as Listen).server), "listen start"),
    end: (m: unknown) => rec.log(where((m as Listen).server), "listen end"),
    asyncStart: (m: unknown) => {
      const { server, options } = m as Listen
      // the options' own values, a handle named by its kind only (libuv's TCP and compat's differ inside)
      const values = Object.fromEntries(
        Object.entries(options as object).map(([k, v]) => [k, typeof v === "object" && v !== null ? typeof v : v])
      )
      rec.log(where(server), "listen asyncStart", Object.keys(m as object), values, { listening: server.listening })
    },
    asyncEnd: (m: unknown) => {
      const { server } = m as Listen
      rec.log(where(server), "listen asyncEnd", Object.keys(m as object), { listening: server.listening })
    },
    error: (m: unknown) => {
      const { server, error } = m as Listen
      lastListenError = error
      rec.log(where(server), "listen error", Object.keys(m as object), error, { listening: server.listening })
    }
  }
  let lastListenError: Error | undefined
  dc.subscribe("net.client.socket", client)
  dc.subscribe("net.server.socket", server)
  const tracing = dc.tracingChannel("net.server.listen")
  tracing.subscribe(handlers)
  published.client = () => pendingClient
  published.listenError = () => lastListenError
  try {
    await f()
  } finally {
    dc.unsubscribe("net.client.socket", client)
    dc.unsubscribe("net.server.socket", server)
    tracing.unsubscribe(handlers)
  }
}

/** What the last messages carried, for identity checks. */
const published: { client: () => Socket | undefined; listenError: () => Error | undefined } = {
  client: () => undefined,
  listenError: () => undefined
}

/** Names the scenario's own objects. */
const names = () => {
  const known = new Map<unknown, string>()
  return {
    name: <T>(x: T, actor: string): T => {
      known.set(x, actor)
      return x
    },
    actorOf: (x: unknown) => known.get(x)
  }
}

const closed = (s: Socket) => (s.closed ? Promise.resolve() : once(s, "close").then(() => undefined))

export const observeScenarios: ReadonlyArray<Scenario> = [
  scenario(
    "diagnostics_channel: net.server.listen around 'listening', net.client.socket at connect, net.server.socket after 'connection'",
    async (net, rec) => {
      const { name, actorOf } = names()
      await observing(rec, actorOf, async () => {
        const server = name(rec.watch("server", net.createServer(), serverEvents), "server")
        server.on("connection", (s) => name(s, "peer"))
        server.listen(0, "127.0.0.1")
        rec.log("server", "listen returned")
        await once(server, "listening")
        const port = (server.address() as { port: number }).port
        const accepted = accept(server)
        rec.log("client", "connect called")
        const client = rec.watch("client", net.connect(port, "127.0.0.1"), socketEvents)
        name(client, "client")
        rec.log("client", "connect returned", { published: published.client() === client })
        const peer = await accepted
        rec.watch("peer", peer, ["close"])
        await once(client, "connect")
        // a socket made with `new Socket()` and connected is published too
        const other = name(rec.watch("other", new net.Socket(), ["connect", "close"]), "other")
        other.connect(port, "127.0.0.1")
        const otherPeer = name(await accept(server), "other peer")
        await once(other, "connect")
        other.destroy()
        otherPeer.destroy()
        client.end()
        peer.end()
        await Promise.all([closed(client), closed(peer), closed(other)])
        server.close()
        await once(server, "close")
      })
    }
  ),
  scenario("diagnostics_channel: net.server.listen on a handle, and a listen that throws", async (net, rec) => {
    const { name, actorOf } = names()
    await observing(rec, actorOf, async () => {
      const first = name(rec.watch("first", net.createServer(), serverEvents), "first")
      await listen(first)
      rec.attempt("first", "listen again", () => first.listen(0))
      rec.attempt("first", "listen on a bad port", () => name(net.createServer(), "first").listen({ port: -1 }))
      const second = name(rec.watch("second", net.createServer(), serverEvents), "second")
      const options = { handle: (first as unknown as { _handle: unknown })._handle }
      second.listen(options as never)
      rec.log("second", "listen returned")
      await once(second, "listening")
      second.close()
      first.close()
      await once(first, "close")
    })
  }),
  scenario("diagnostics_channel: net.server.listen error before 'error' (EADDRINUSE)", async (net, rec) => {
    const { name, actorOf } = names()
    await observing(rec, actorOf, async () => {
      const first = name(rec.track(net.createServer()), "first")
      const port = await listen(first)
      const second = name(rec.watch("second", net.createServer(), serverEvents), "second")
      second.listen(port, "127.0.0.1")
      rec.log("second", "listen returned")
      const [error] = await once(second, "error")
      rec.log("second", "published the emitted error", published.listenError() === error)
      first.close()
      await once(first, "close")
    })
  }),
  scenario("diagnostics_channel: a listen closed before it is up publishes no asyncEnd", async (net, rec) => {
    const { name, actorOf } = names()
    await observing(rec, actorOf, async () => {
      const server = name(rec.watch("server", net.createServer(), serverEvents), "server")
      server.listen(0, "localhost")
      server.close()
      await once(server, "close")
      await rec.ticks(5)
    })
  }, ["dns"]),
  scenario("diagnostics_channel: net.server.listen for a local socket", async (net, rec) => {
    const { name, actorOf } = names()
    await observing(rec, actorOf, async () => {
      const server = name(rec.watch("server", net.createServer(), serverEvents), "server")
      server.on("connection", (s) => name(s, "peer"))
      server.listen(rec.path("obs.sock"))
      await once(server, "listening")
      const accepted = accept(server)
      const client = name(rec.watch("client", net.connect(rec.path("obs.sock")), ["connect", "close"]), "client")
      const peer = await accepted
      client.destroy()
      peer.destroy()
      await Promise.all([closed(client), closed(peer)])
      server.close()
      await once(server, "close")
    })
  }, ["ipc"]),
  scenario(
    "captureRejections: a rejected async 'connection' listener destroys the socket; other events' rejections are 'error'",
    async (net, rec) => {
      const before = EventEmitter.captureRejections
      EventEmitter.captureRejections = true
      try {
        const server = rec.watch(
          "server",
          net.createServer(async () => {
            throw new Error("rejected in 'connection'")
          }),
          serverEvents
        )
        server.on("connection", (s: Socket) => rec.watch("peer", s, ["error", "close"]))
        server.once("listening", async () => {
          throw new Error("rejected in 'listening'")
        })
        const port = await listen(server)
        await once(server, "error")
        const client = rec.watch("client", net.connect(port, "127.0.0.1"), socketEvents)
        client.resume()
        await once(client, "close")
        rec.log("server", "connections", server.listenerCount("connection"))
        server.close()
        await once(server, "close")
      } finally {
        EventEmitter.captureRejections = before
      }
    }
  ),
  scenario(
    "captureRejections in a Socket's options: a rejected listener destroys it with the error",
    async (net, rec) => {
      const socket = rec.watch("socket", new net.Socket({ captureRejections: true } as never), ["error", "close"])
      socket.on("custom", async () => {
        throw new Error("rejected in 'custom'")
      })
      socket.emit("custom")
      await once(socket, "close")
      rec.props("socket", "after", socket, ["destroyed"])
    }
  )
]
