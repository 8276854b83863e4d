/**
 * Scenarios: the `onread` option — each read fills the caller's buffer (at
 * most its length), the buffer function is called once when the socket gets
 * its handle and once after every read, and a callback that pauses the
 * socket or returns `false` stops the reads until reading starts again.
 */
import type { Socket } from "node:net"
import { listen, once, scenario } from "../harness.ts"
import type { NetLike, Recorder, Scenario } from "../harness.ts"

/** A server that sends `text` and ends; the port it listens on. */
const sender = async (net: NetLike, rec: Recorder, text: string): Promise<number> => {
  const server = rec.track(net.createServer((s) => s.end(text)))
  return listen(server)
}

export const onreadScenarios: ReadonlyArray<Scenario> = [
  scenario("onread: pause() in the callback stops the reads until resume()", async (net, rec) => {
    const port = await sender(net, rec, "abcdefghijkl")
    let made = 0
    let paused = false
    const socket: Socket = net.connect({
      port,
      host: "127.0.0.1",
      onread: {
        buffer: () => {
          made++
          return Buffer.alloc(4)
        },
        callback: (n: number, buf: Uint8Array) => {
          rec.log("client", "read", n, Buffer.from(buf).toString("latin1", 0, n), made)
          if (!paused) {
            paused = true
            socket.pause()
            setImmediate(() => {
              rec.log("client", "resuming")
              socket.resume()
            })
          }
          return true
        }
      }
    })
    rec.log("client", "buffers made by connect()", made)
    rec.watch("client", socket, ["connect", "end", "close"])
    await once(socket, "close")
    rec.log("client", "buffers made", made)
  }),
  scenario("onread: a callback that returns false stops the reads until resume()", async (net, rec) => {
    const port = await sender(net, rec, "0123456789")
    const buffer = Buffer.alloc(3)
    let reads = 0
    const socket: Socket = net.connect({
      port,
      host: "127.0.0.1",
      onread: {
        buffer,
        callback: (n: number, buf: Uint8Array) => {
          reads++
          rec.log("client", "read", n, Buffer.from(buf).toString("latin1", 0, n), buf === buffer)
          if (reads === 2) {
            setImmediate(() => {
              rec.log("client", "resuming")
              socket.resume()
            })
            return false
          }
          return true
        }
      }
    })
    rec.watch("client", socket, ["connect", "end", "close"])
    await once(socket, "close")
  })
]
