/**
 * What importing each package costs a process, from the packed packages (the
 * built JavaScript a user installs): the packages are packed and installed
 * into a consumer project in the temp dir (`scripts/consumer.ts`), then a
 * fresh Node process per sample loads one module and exits. The figure is
 * the median wall time of the process, and its difference to the process that
 * loads `node:net` the same way (`require` against `require`, `import`
 * against `import`), measured in the same run, in interleaved order.
 *
 * `npm run bench` runs it after the socket scenarios (`--only=import`: alone);
 * by itself: `node --conditions=@sluice/source bench/import-cost.ts [runs]`.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { consumerEnv, makeConsumer } from "../scripts/consumer.ts"

const runs = Number(process.argv[2] ?? 21)
const prefix = spawnSync("sh", ["-c", "command -v taskset"]).status === 0 ? ["taskset", "-c", "0"] : []

/** One line of the table: what the process loads, and how. */
interface Target {
  readonly name: string
  readonly file: string
  readonly code: string
  /** The `node:net` target it is compared with. */
  readonly base: string
  /** Node options before the file. */
  readonly args?: ReadonlyArray<string>
}

const cjs = (name: string, specifier: string, base = "require(\"node:net\")"): Target => ({
  name,
  file: `${name.replace(/\W+/g, "_")}.cjs`,
  code: `require(${JSON.stringify(specifier)})\n`,
  base
})
const esm = (name: string, specifier: string, base = "import \"node:net\""): Target => ({
  name,
  file: `${name.replace(/\W+/g, "_")}.mjs`,
  code: `import ${JSON.stringify(specifier)}\n`,
  base
})

const targets: ReadonlyArray<Target> = [
  cjs("require(\"node:net\")", "node:net"),
  cjs("require(\"@sluice/compat\")", "@sluice/compat"),
  // the register entry: its hooks at start-up, then compat where the program requires net
  {
    ...cjs("--import @sluice/compat/register, require(\"net\")", "net"),
    args: ["--import", "@sluice/compat/register"]
  },
  esm("import \"node:net\"", "node:net"),
  esm("import \"@sluice/compat\"", "@sluice/compat"),
  esm("import \"@sluice/core\"", "@sluice/core"),
  esm("import \"@sluice/node-adapter\"", "@sluice/node-adapter")
]

const median = (xs: ReadonlyArray<number>) => {
  const s = xs.toSorted((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? NaN
}

const main = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-import-cost-"))
  try {
    process.stderr.write(`import cost: packing and installing into ${dir}\n`)
    const { app } = await makeConsumer(dir)
    for (const t of targets) fs.writeFileSync(path.join(app, t.file), t.code)
    const env = consumerEnv()
    const samples = new Map<string, Array<number>>(targets.map((t) => [t.name, []]))
    for (let r = 0; r < runs; r++) {
      for (let i = 0; i < targets.length; i++) {
        const t = targets[(i + r) % targets.length]!
        const cmd = [...prefix, process.execPath, ...(t.args ?? []), t.file]
        const start = process.hrtime.bigint()
        const out = spawnSync(cmd[0]!, cmd.slice(1), { cwd: app, env, stdio: ["ignore", "ignore", "pipe"] })
        const ms = Number(process.hrtime.bigint() - start) / 1e6
        if (out.status !== 0) throw new Error(`${t.name} failed: ${out.stderr.toString()}`)
        samples.get(t.name)!.push(ms)
      }
    }
    const lines = [
      `Import cost, node ${process.version}, ${runs} fresh processes each${
        prefix.length > 0 ? ", pinned to CPU 0" : ""
      }:`,
      "",
      "| the process loads | median ms | min..max ms | vs node:net |",
      "|---|---:|---:|---:|"
    ]
    for (const t of targets) {
      const xs = samples.get(t.name)!
      const m = median(xs)
      const base = median(samples.get(t.base)!)
      const delta = t.name === t.base ? "" : `${m - base >= 0 ? "+" : ""}${(m - base).toFixed(1)} ms`
      lines.push(
        `| \`${t.name}\` | ${m.toFixed(1)} | ${Math.min(...xs).toFixed(1)}..${Math.max(...xs).toFixed(1)} | ${delta} |`
      )
    }
    process.stdout.write(lines.join("\n") + "\n")
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`import cost failed: ${e instanceof Error ? e.stack : String(e)}\n`)
  process.exit(1)
})
