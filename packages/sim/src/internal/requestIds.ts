/**
 * Per-connection request ids for effect/rpc clients. effect's `RpcClient`
 * numbers requests with one counter for the whole process, so the bytes a
 * client sends (and so a trace's byte counts) depend on every client that ran
 * before it in the process, a previous run of the same simulation included.
 * This codec renumbers requests on the wire from 0 for each client protocol
 * (one per runner address) and maps the server's answers back, so equal runs
 * send equal bytes. The server sees ordinary, unique ids; the client sees its
 * own. The numbering is the protocol's, not a parser's: effect's socket
 * protocol makes a new parser when its read loop (re)starts, possibly after
 * it encoded the first requests with another one.
 *
 * @internal
 */
import type * as RpcSerialization from "effect/rpc/RpcSerialization"

type Id = string | number

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

/** `serialization` whose parsers renumber client requests, with one numbering for all of them (make one per protocol). */
export const perConnectionRequestIds = (
  serialization: RpcSerialization.RpcSerialization["Service"]
): RpcSerialization.RpcSerialization["Service"] => {
  const toWire = new Map<string, number>()
  const fromWire = new Map<number, Id>()
  let next = 0
  return {
    contentType: serialization.contentType,
    includesFraming: serialization.includesFraming,
    codecFor: serialization.codecFor,
    makeUnsafe: () => {
      const parser = serialization.makeUnsafe()
      const outgoing = (message: unknown): unknown => {
        if (!isRecord(message)) return message
        if (message["_tag"] === "Request" && (typeof message["id"] === "string" || typeof message["id"] === "number")) {
          const local = next++
          toWire.set(String(message["id"]), local)
          fromWire.set(local, message["id"])
          return { ...message, id: local }
        }
        const requestId = message["requestId"]
        if ((message["_tag"] === "Ack" || message["_tag"] === "Interrupt") && requestId !== undefined) {
          const local = toWire.get(String(requestId))
          return local === undefined ? message : { ...message, requestId: local }
        }
        return message
      }
      const incoming = (message: unknown): unknown => {
        if (
          !isRecord(message) || typeof message["requestId"] !== "number" && typeof message["requestId"] !== "string"
        ) {
          return message
        }
        const local = Number(message["requestId"])
        const id = fromWire.get(local)
        if (id === undefined) return message
        if (message["_tag"] === "Exit") {
          fromWire.delete(local)
          toWire.delete(String(id))
        }
        return { ...message, requestId: id }
      }
      return {
        encode: (message) => parser.encode(Array.isArray(message) ? message.map(outgoing) : outgoing(message)),
        decode: (data) => parser.decode(data).map(incoming)
      }
    }
  }
}
