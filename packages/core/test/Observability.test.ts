import { assert, describe, it } from "@effect/vitest"
import * as Network from "@sluice/core/Network"
import * as Observability from "@sluice/core/Observability"
import * as Server from "@sluice/core/Server"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Stream from "effect/Stream"
import { drivers } from "./drivers.ts"
import { eventually, recordingTracer, run, tcpPort, text } from "./helpers.ts"

for (const d of drivers) {
  describe(`observability on the ${d.name} driver`, () => {
    it.live("spans for connect, listen and each served connection, with peer, bytes and outcome", () => {
      const { spans, tracer } = recordingTracer()
      return run(
        d.make(),
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const port = tcpPort(server.address)
          yield* Server.serve(server, (socket) => Stream.run(socket.reads, socket.writes), {
            onHandlerError: () => Effect.void
          })
          const client = yield* Network.connect({ host: d.host, port })
          yield* client.write("12345")
          yield* client.endOfOutput
          assert.strictEqual(text(yield* Stream.runCollect(client.reads)), "12345")
          yield* eventually(
            () => spans.some((s) => s.name === "sluice.connection" && s.status._tag === "Ended"),
            "connection span ended"
          )
          const listen = spans.find((s) => s.name === "sluice.listen")!
          assert.strictEqual(listen.attributes.get("net.local.port"), port)
          const connect = spans.find((s) => s.name === "sluice.connect")!
          assert.strictEqual(connect.kind, "client")
          assert.strictEqual(connect.attributes.get("sluice.target.port"), port)
          assert.strictEqual(connect.attributes.get("net.peer.address"), d.host)
          assert.strictEqual(connect.attributes.get("net.peer.port"), port)
          assert.strictEqual(connect.attributes.get("sluice.attempts"), 1)
          const connection = spans.find((s) => s.name === "sluice.connection")!
          assert.strictEqual(connection.kind, "server")
          assert.strictEqual(connection.attributes.get("net.peer.address"), d.host)
          assert.strictEqual(connection.attributes.get("net.peer.port"), tcpPort(client.localAddress))
          assert.strictEqual(connection.attributes.get("sluice.bytes_in"), 5)
          assert.strictEqual(connection.attributes.get("sluice.bytes_out"), 5)
          assert.strictEqual(connection.attributes.get("sluice.outcome"), "success")
        }).pipe(Effect.withTracer(tracer))
      )
    })

    it.live("a failed connect ends its span with the failure and counts it", () => {
      const { spans, tracer } = recordingTracer()
      return run(
        d.make(),
        Effect.gen(function*() {
          const port = yield* Effect.scoped(
            Effect.map(Network.listen({ host: d.host, port: 0 }), (s) => tcpPort(s.address))
          )
          const before = (yield* Metric.value(Observability.connectFailures)).count
          yield* Effect.flip(Effect.scoped(Network.connect({ host: d.host, port })))
          const connect = spans.find((s) => s.name === "sluice.connect")!
          assert.strictEqual(connect.status._tag, "Ended")
          if (connect.status._tag === "Ended") assert.strictEqual(connect.status.exit._tag, "Failure")
          assert.strictEqual((yield* Metric.value(Observability.connectFailures)).count, before + 1)
        }).pipe(Effect.withTracer(tracer))
      )
    })

    it.live("metrics: open connections, connections opened, bytes in and out, dropped", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const open0 = (yield* Metric.value(Observability.connectionsOpen)).value
          const total0 = (yield* Metric.value(Observability.connectionsTotal)).count
          const read0 = (yield* Metric.value(Observability.bytesRead)).count
          const written0 = (yield* Metric.value(Observability.bytesWritten)).count
          const dropped0 = (yield* Metric.value(Observability.connectionsDropped)).count
          yield* Effect.scoped(Effect.gen(function*() {
            const server = yield* Network.listen({ host: d.host, port: 0, maxConnections: 1 })
            const port = tcpPort(server.address)
            const client = yield* Network.connect({ host: d.host, port })
            const peer = yield* Effect.flatMap(Stream.runHead(server.accept), Effect.fromOption)
            assert.strictEqual((yield* Metric.value(Observability.connectionsOpen)).value, open0 + 2)
            yield* client.write("abc")
            yield* client.endOfOutput
            assert.strictEqual(text(yield* Stream.runCollect(peer.reads)), "abc")
            // a second connection is over the limit: dropped
            yield* Effect.exit(Effect.scoped(Effect.flatMap(
              Network.connect({ host: d.host, port }),
              (s) => Stream.runDrain(s.reads)
            )))
            yield* eventually(() => server.listener.dropped === 1, "dropped")
          }))
          assert.strictEqual((yield* Metric.value(Observability.connectionsOpen)).value, open0)
          assert.isAtLeast((yield* Metric.value(Observability.connectionsTotal)).count, total0 + 3)
          // both ends report: 3 bytes written by the client, 3 read by the server
          assert.strictEqual((yield* Metric.value(Observability.bytesRead)).count, read0 + 3)
          assert.strictEqual((yield* Metric.value(Observability.bytesWritten)).count, written0 + 3)
          assert.strictEqual((yield* Metric.value(Observability.connectionsDropped)).count, dropped0 + 1)
        })
      ))
  })
}
