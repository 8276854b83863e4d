/**
 * The parent side of the bad-input sweep: one long-lived child process per
 * module (`fixtures/input-child.ts`), fed one case at a time. A child that
 * crashes (an abort in native code, an exit) or hangs is reported as the
 * outcome of the case it was running and replaced by a fresh one for the
 * next case, so a crash is a difference like any other, never the end of the
 * test run.
 */
import { spawn } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import type { Entry } from "./harness.ts"
import type { Case } from "./inputs.ts"

const sourceCondition = "--conditions=@sluice/source"

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "input-child.ts")

/** What one case did in one child: its trace, or how the child died. */
export type Outcome =
  | { readonly traces: Record<string, ReadonlyArray<Entry>> }
  | { readonly died: string; readonly stderr: string }

/** Whether a case's outcome is a crash of the child. */
export const died = (o: Outcome): o is Extract<Outcome, { died: string }> => "died" in o

interface Live {
  readonly proc: ChildProcess
  readonly ready: Promise<void>
  readonly dir: string
  stderr: string
}

/** Runs cases in a child process with `node:net` or with compat. */
export class CaseRunner {
  readonly which: "node" | "compat"
  /** Uncaught exceptions or rejections that escaped a case after it ended, with the case before them. */
  readonly strays: Array<{ readonly after: Case | undefined; readonly what: unknown }> = []
  private live: Live | undefined = undefined
  private pending: { id: number; resolve: (o: Outcome) => void; case: Case } | undefined = undefined
  private last: Case | undefined = undefined
  private nextId = 0
  private readonly hangMs: number

  constructor(which: "node" | "compat", hangMs = 20_000) {
    this.which = which
    this.hangMs = hangMs
  }

  private start(): Live {
    // names of one length on both sides: a path in a message is cut at the same place
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sluice-inputs-${this.which === "node" ? "node--" : "compat"}-`))
    // the workspace runs from its sources: the child needs the export condition that selects them
    const options = process.env["NODE_OPTIONS"] ?? ""
    const env = {
      ...process.env,
      NODE_OPTIONS: options.includes(sourceCondition) ? options : `${options} ${sourceCondition}`.trim()
    }
    const proc = spawn(process.execPath, [fixture, this.which], { cwd: dir, env, stdio: ["pipe", "pipe", "pipe"] })
    let resolveReady: () => void = () => {}
    const ready = new Promise<void>((resolve) => (resolveReady = resolve))
    const live: Live = { proc, ready, dir, stderr: "" }
    proc.stderr!.setEncoding("utf8")
    proc.stderr!.on("data", (s: string) => {
      live.stderr = (live.stderr + s).slice(-4000)
    })
    createInterface({ input: proc.stdout! }).on("line", (line) => {
      const message = JSON.parse(line) as {
        ready?: true
        id?: number
        traces?: Record<string, ReadonlyArray<Entry>>
        stray?: string
        error?: string
      }
      if (message.ready) resolveReady()
      else if (message.stray !== undefined) {
        this.strays.push({ after: this.pending?.case ?? this.last, what: message })
      } else if (message.id !== undefined && this.pending?.id === message.id) {
        const { resolve } = this.pending
        this.last = this.pending.case
        this.pending = undefined
        resolve({ traces: message.traces! })
      }
    })
    proc.on("exit", (code, signal) => {
      if (this.live === live) this.live = undefined
      fs.rmSync(dir, { recursive: true, force: true })
      resolveReady()
      const p = this.pending
      if (p !== undefined) {
        this.pending = undefined
        this.last = p.case
        p.resolve({ died: signal !== null ? `signal ${signal}` : `exit code ${code}`, stderr: live.stderr })
      }
    })
    return live
  }

  /** Runs one case; a crash or a hang of the child is its outcome. */
  async run(c: Case): Promise<Outcome> {
    let live = this.live
    if (live === undefined) live = this.live = this.start()
    await live.ready
    if (this.live !== live) return { died: "exited before the case started", stderr: live.stderr }
    const id = this.nextId++
    return new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => {
        if (this.pending?.id !== id) return
        this.pending = undefined
        this.last = c
        live.proc.kill("SIGKILL")
        resolve({ died: `hung for ${this.hangMs} ms`, stderr: live.stderr })
      }, this.hangMs)
      this.pending = {
        id,
        case: c,
        resolve: (o) => {
          clearTimeout(timer)
          resolve(o)
        }
      }
      live.proc.stdin!.write(`${JSON.stringify({ id, case: c })}\n`)
    })
  }

  /** Ends the child (after its last case). */
  async close(): Promise<void> {
    const live = this.live
    if (live === undefined) return
    const exited = new Promise((resolve) => live.proc.once("exit", resolve))
    live.proc.stdin!.end()
    const timer = setTimeout(() => live.proc.kill("SIGKILL"), 5000)
    await exited
    clearTimeout(timer)
  }
}
