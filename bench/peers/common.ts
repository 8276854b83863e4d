/**
 * What every benchmark peer implements. A peer is one networking stack
 * (raw node:net, effect/socket, Sluice's Effect face, Sluice compat); the
 * server and the client of one run use the same peer.
 */

/** The server behaviours the scenarios need. */
export type ServerMode = "sink" | "echo"

/** Latency samples and request count of a ping-pong run. */
export interface PingPongResult {
  readonly requests: number
  /** Round-trip times in microseconds. */
  readonly latencies: Array<number>
}

/** One peer: a server and the client side of each scenario. */
export interface Peer {
  /**
   * Listens on 127.0.0.1, port 0. `sink` counts bytes until the peer ends,
   * then answers with the 8-byte count (little-endian float64) and closes.
   * `echo` writes back every byte and closes when the peer ends.
   */
  readonly server: (mode: ServerMode) => Promise<number>
  /** Writes `total` bytes in `chunk`-sized writes honouring backpressure, ends, waits for the sink's count. */
  readonly bulk: (port: number, total: number, chunk: Uint8Array) => Promise<number>
  /** Writes `total` bytes and reads them back from the echo server. Returns bytes received. */
  readonly echo: (port: number, total: number, chunk: Uint8Array) => Promise<number>
  /** `conns` connections, each sending 64-byte messages one at a time until `deadline` (performance.now()). */
  readonly pingpong: (port: number, conns: number, deadline: number) => Promise<PingPongResult>
  /**
   * `concurrency` loops, each opening a connection, sending one byte, reading
   * it back, ending, and waiting until the connection is fully closed, until
   * `deadline`. Returns completed connections.
   */
  readonly churn: (port: number, concurrency: number, deadline: number) => Promise<number>
}

/**
 * The certificates of a TLS run (PEM), made by `run.ts` for each run
 * (`Certificates`, in memory) and handed to the processes in the
 * `SLUICE_BENCH_TLS` environment variable: a server key and certificate for
 * localhost, and the authority the clients trust.
 */
export interface TlsMaterial {
  readonly key: string
  readonly cert: string
  readonly ca: string
}

/** The TLS material of this process, when it runs a TLS scenario. */
export const tlsMaterial = (): TlsMaterial | undefined => {
  const json = process.env["SLUICE_BENCH_TLS"]
  return json === undefined || json === "" ? undefined : (JSON.parse(json) as TlsMaterial)
}

/** The 64-byte ping-pong message. */
export const MESSAGE = new Uint8Array(64).fill(0x61)

/** Microseconds since `t0` (a performance.now() value). */
export const micros = (t0: number): number => (performance.now() - t0) * 1000

/** Reads the float64 count of a sink's answer. */
export const readCount = (bytes: Uint8Array): number =>
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat64(0, true)

/** Encodes a sink's answer. */
export const encodeCount = (n: number): Uint8Array => {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setFloat64(0, n, true)
  return out
}
