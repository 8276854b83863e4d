/**
 * Many small string writes (issue 17): a node-redis-style pipeline — 200,000
 * (quick: 50,000) `SET key value` commands in RESP, each its own
 * `socket.write(string)`, corked in batches of 100 and uncorked on the next
 * tick as node-redis does, honouring backpressure — over `node:net` and over
 * `@sluice/compat`, each in a fresh process, interleaved, in the same run.
 * The receiving end is always `node:net` (in the same process), counting
 * bytes; the figure is commands per second until the last byte arrived, and
 * the ratio of compat's median to node:net's.
 *
 * `node --conditions=@sluice/source bench/small-writes.ts [reps] [commands]`
 * (`npm run bench -- --only=smallwrites` runs it too).
 */
import { spawnSync } from "node:child_process"
import * as nodeNet from "node:net"
import { fileURLToPath } from "node:url"

const self = fileURLToPath(import.meta.url)
/** Writes per cork (`SLUICE_BENCH_BATCH`; 1: no cork, every write its own). */
const BATCH = Number(process.env["SLUICE_BENCH_BATCH"] ?? 100)

const command = (i: number): string => {
  const key = `key:${i}`
  const value = `value-${i}-é`
  return `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${Buffer.byteLength(value)}\r\n${value}\r\n`
}

const runChild = async (peer: string, commands: number): Promise<void> => {
  const mod: typeof nodeNet = peer === "compat"
    ? ((await import("@sluice/compat")).default as unknown as typeof nodeNet)
    : nodeNet
  let expected = 0
  for (let i = 0; i < commands; i++) expected += Buffer.byteLength(command(i))
  let received = 0
  let finished: () => void = () => {}
  const done = new Promise<void>((resolve) => (finished = resolve))
  const server = nodeNet.createServer((s) => {
    s.on("data", (c: Buffer) => {
      received += c.length
      if (received >= expected) finished()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as nodeNet.AddressInfo).port
  const client = mod.connect(port, "127.0.0.1")
  await new Promise<void>((resolve) => client.once("connect", resolve))
  const t0 = performance.now()
  let i = 0
  const pump = () => {
    while (i < commands) {
      if (BATCH > 1) client.cork()
      let ok = true
      const end = Math.min(commands, i + BATCH)
      for (; i < end; i++) ok = client.write(command(i))
      if (BATCH > 1) process.nextTick(() => client.uncork())
      if (!ok) {
        client.once("drain", pump)
        return
      }
    }
  }
  pump()
  await done
  const seconds = (performance.now() - t0) / 1000
  client.destroy()
  server.close()
  process.stdout.write(`${JSON.stringify({ peer, commands, seconds, bytes: expected })}\n`)
}

const median = (xs: Array<number>): number => {
  const s = xs.toSorted((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

const main = (reps: number, commands: number): void => {
  const peers = ["node:net", "compat"]
  const rates = new Map<string, Array<number>>(peers.map((p) => [p, []]))
  for (let r = 0; r < reps; r++) {
    for (const peer of r % 2 === 0 ? peers : peers.toReversed()) {
      const out = spawnSync(process.execPath, [...process.execArgv, self, "--child", peer, String(commands)], {
        encoding: "utf8",
        timeout: 120_000
      })
      if (out.status !== 0) throw new Error(`${peer} failed (${out.status ?? out.signal}): ${out.stderr}`)
      const result = JSON.parse(out.stdout.trim().split("\n").at(-1)!) as { seconds: number }
      rates.get(peer)!.push(commands / result.seconds)
    }
  }
  const net = median(rates.get("node:net")!)
  const compat = median(rates.get("compat")!)
  const fmt = (xs: Array<number>) =>
    `${Math.round(median(xs)).toLocaleString("en")} cmd/s (${Math.round(Math.min(...xs)).toLocaleString("en")}..${
      Math.round(Math.max(...xs)).toLocaleString("en")
    })`
  process.stdout.write(
    `\n### Many small string writes: ${
      commands.toLocaleString("en")
    } pipelined commands, ${BATCH} per cork, ${reps} reps\n\n`
  )
  process.stdout.write(`| peer | median (min..max) | ratio to node:net |\n| --- | --- | --- |\n`)
  process.stdout.write(`| node:net | ${fmt(rates.get("node:net")!)} | 1.00× |\n`)
  process.stdout.write(`| compat | ${fmt(rates.get("compat")!)} | ${(compat / net).toFixed(2)}× |\n`)
}

if (process.argv[2] === "--child") await runChild(process.argv[3]!, Number(process.argv[4]))
else main(Number(process.argv[2] ?? 5), Number(process.argv[3] ?? 200_000))
