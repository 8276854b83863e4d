/**
 * Throwaway database servers for the real-client tests: a PostgreSQL cluster and a
 * redis-server, each in its own temporary directory, on loopback, started by the
 * test that needs them and stopped (process ended, directory removed) at its end.
 *
 * Readiness is polled with the real `node:net` (never through compat), so a
 * failure here is the server's, not the code under test. PostgreSQL refuses to run
 * as root: when the tests run as root (CI), the cluster runs as `nobody` via
 * `setpriv`.
 *
 * @since 0.1.0
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

/** How long a server may take to accept connections before the fixture gives up. */
const startTimeoutMs = 30_000
/** How long a server may take to exit after being asked to stop before it is killed. */
const stopTimeoutMs = 10_000
/** Interval between two readiness probes. */
const pollIntervalMs = 50

/**
 * A running throwaway server.
 *
 * @since 0.1.0
 */
export interface RunningServer {
  readonly host: "127.0.0.1"
  readonly port: number
  /** The temporary directory holding the server's data and unix socket. */
  readonly dir: string
  /** The server's log so far (stdout + stderr), for assertion messages. */
  readonly log: () => string
  /** Stops the server and removes its directory. Idempotent. */
  readonly stop: () => Promise<void>
}

/**
 * A running PostgreSQL cluster: superuser `postgres`, trust authentication,
 * listening on `127.0.0.1:port` and on the unix socket `socketDir/.s.PGSQL.<port>`.
 *
 * @since 0.1.0
 */
export interface RunningPostgres extends RunningServer {
  readonly socketDir: string
  readonly user: "postgres"
  readonly database: "postgres"
}

/**
 * A loopback TCP port that was free a moment ago: bind port 0, read it, close.
 * (redis-server and postgres take no port 0.)
 *
 * @since 0.1.0
 */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no port from server.address()"))))
    })
  })

const searchDirs = (): Array<string> => {
  const dirs = (process.env["PATH"] ?? "").split(path.delimiter).filter((d) => d !== "")
  dirs.push("/usr/local/bin", "/usr/bin", "/usr/sbin")
  // Debian's postgresql packages keep their binaries out of PATH
  const debian = "/usr/lib/postgresql"
  if (fs.existsSync(debian)) {
    for (const version of fs.readdirSync(debian).toSorted().toReversed()) dirs.push(path.join(debian, version, "bin"))
  }
  return dirs
}

/** The absolute path of an executable on PATH or in /usr/lib/postgresql/*\/bin, if there is one. */
const lookExecutable = (name: string): string | undefined => {
  for (const dir of searchDirs()) {
    const candidate = path.join(dir, name)
    try {
      fs.accessSync(candidate, fs.constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

/**
 * The absolute path of an executable, or a readable error naming what to install.
 *
 * @since 0.1.0
 */
export const findExecutable = (name: string, hint: string): string => {
  const found = lookExecutable(name)
  if (found === undefined) throw new Error(`${name} not found on PATH or in /usr/lib/postgresql/*/bin: ${hint}`)
  return found
}

/**
 * The executables the servers need, with the Debian package that has each.
 *
 * @since 0.1.0
 */
export const serverPackages: ReadonlyArray<{ readonly executable: string; readonly debian: string }> = [
  { executable: "redis-server", debian: "redis-server" },
  { executable: "initdb", debian: "postgresql" },
  { executable: "postgres", debian: "postgresql" }
]

/**
 * The Debian packages of {@link serverPackages} whose executable is missing.
 *
 * @since 0.1.0
 */
export const missingPackages = (): Array<string> => [
  ...new Set(serverPackages.filter((p) => lookExecutable(p.executable) === undefined).map((p) => p.debian))
]

/**
 * Installs the missing server packages from Debian's (`apt-get`, through
 * `sudo -n` when not root), so that the tests need nothing but Node and the
 * repository; a readable error where that cannot be done. Run once, before
 * any test starts (the compat project's global setup), so that test files
 * running in parallel never race for the package manager.
 *
 * @since 0.1.0
 */
export const installMissing = (log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): void => {
  const missing = missingPackages()
  if (missing.length === 0) return
  const what = `the real-client tests need ${missing.join(" and ")} (${
    serverPackages.filter((p) => missing.includes(p.debian)).map((p) => p.executable).join(", ")
  })`
  const aptGet = lookExecutable("apt-get")
  if (aptGet === undefined) throw new Error(`${what}: install them (no apt-get here)`)
  const root = process.getuid?.() === 0
  const sudo = root ? undefined : lookExecutable("sudo")
  if (!root && sudo === undefined) throw new Error(`${what}: install them, or run as root (no sudo here)`)
  const run = (args: ReadonlyArray<string>) => {
    const file = sudo ?? aptGet
    const fileArgs = sudo === undefined ? args : ["-n", aptGet, ...args]
    log(`installing ${missing.join(", ")}: ${file} ${fileArgs.join(" ")}`)
    execFileSync(file, fileArgs, {
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      timeout: 600_000
    })
  }
  try {
    run(["update"])
    run(["install", "-y", "--no-install-recommends", ...missing])
  } catch (error) {
    throw new Error(`${what}, and installing them with apt-get failed`, { cause: error })
  }
  const still = missingPackages()
  if (still.length > 0) throw new Error(`${what}: still missing after apt-get install: ${still.join(", ")}`)
}

interface Identity {
  readonly uid: number
  readonly gid: number
  /** Prefix that runs a command as this identity (empty when already unprivileged). */
  readonly prefix: ReadonlyArray<string>
}

/** Who runs PostgreSQL: ourselves, or `nobody` when we are root. */
const unprivileged = (): Identity => {
  const uid = process.getuid?.() ?? -1
  const gid = process.getgid?.() ?? -1
  if (uid !== 0) return { uid, gid, prefix: [] }
  const id = (flag: string) => Number(execFileSync("id", [flag, "nobody"], { encoding: "utf8" }).trim())
  const nobodyUid = id("-u")
  const nobodyGid = id("-g")
  const setpriv = findExecutable("setpriv", "install util-linux")
  return {
    uid: nobodyUid,
    gid: nobodyGid,
    prefix: [setpriv, `--reuid=${nobodyUid}`, `--regid=${nobodyGid}`, "--clear-groups", "--"]
  }
}

const makeTempDir = (prefix: string, owner: Identity): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  if (owner.prefix.length > 0) fs.chownSync(dir, owner.uid, owner.gid)
  return dir
}

const removeDir = (dir: string) => fs.rmSync(dir, { recursive: true, force: true })

/** Children still running when the worker exits are killed rather than leaked. */
const live = new Set<ChildProcess>()
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL")
})

interface Spawned {
  readonly child: ChildProcess
  readonly log: () => string
  readonly exited: Promise<void>
}

const spawnLogged = (command: ReadonlyArray<string>, env: NodeJS.ProcessEnv): Spawned => {
  const [file, ...args] = command
  if (file === undefined) throw new Error("empty command")
  const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"], env })
  live.add(child)
  let log = ""
  const append = (chunk: Buffer) => {
    // keep the tail only: a log is for error messages, not for memory growth
    log = (log + chunk.toString("utf8")).slice(-16_384)
  }
  child.stdout?.on("data", append)
  child.stderr?.on("data", append)
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      live.delete(child)
      resolve()
    })
    child.once("error", (error) => {
      append(Buffer.from(`\nspawn error: ${error.message}\n`))
      live.delete(child)
      resolve()
    })
  })
  return { child, log: () => log, exited }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Polls `probe` every 50 ms until it resolves `true`, the child exits, or the
 * start timeout passes.
 */
const waitReady = async (name: string, spawned: Spawned, probe: () => Promise<boolean>): Promise<void> => {
  let exited = false
  void spawned.exited.then(() => {
    exited = true
  })
  const deadline = Date.now() + startTimeoutMs
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${name} exited during start-up:\n${spawned.log()}`)
    if (await probe()) return
    await delay(pollIntervalMs)
  }
  throw new Error(`${name} not ready after ${startTimeoutMs} ms:\n${spawned.log()}`)
}

const stopChild = async (spawned: Spawned, signal: NodeJS.Signals): Promise<void> => {
  const { child } = spawned
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill(signal)
  const timer = setTimeout(() => child.kill("SIGKILL"), stopTimeoutMs)
  await spawned.exited
  clearTimeout(timer)
}

/**
 * One request/response exchange over a real `node:net` socket; resolves with what
 * the server sent before `until` matched, or `undefined` on any failure.
 */
const exchange = (port: number, request: Uint8Array, until: (reply: string) => boolean): Promise<string | undefined> =>
  new Promise((resolve) => {
    let reply = ""
    const socket = net.connect({ host: "127.0.0.1", port })
    const done = (value: string | undefined) => {
      socket.destroy()
      resolve(value)
    }
    socket.setTimeout(1_000, () => done(undefined))
    socket.once("error", () => done(undefined))
    socket.once("connect", () => socket.write(request))
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString("latin1")
      if (until(reply)) done(reply)
    })
    socket.once("end", () => done(reply))
  })

/** A PostgreSQL v3 SSLRequest: the server answers one byte, `N` or `S`, once it accepts connections. */
const sslRequest = Uint8Array.of(0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f)

const tryStart = async <A extends RunningServer>(name: string, start: () => Promise<A>): Promise<A> => {
  // a port found free can be taken before the server binds it: try again with another
  let lastError: unknown
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await start()
    } catch (error) {
      lastError = error
      if (!(error instanceof Error) || !/address already in use/i.test(error.message)) break
    }
  }
  throw new Error(`could not start ${name}`, { cause: lastError })
}

/**
 * Starts a throwaway PostgreSQL cluster (`initdb` into a temporary directory,
 * trust authentication, fsync off) on a free loopback port and a unix socket.
 *
 * @since 0.1.0
 */
export const startPostgres = (): Promise<RunningPostgres> =>
  tryStart("postgres", async () => {
    const hint = "PostgreSQL server binaries (Debian: apt-get install postgresql)"
    const initdb = findExecutable("initdb", hint)
    const postgres = findExecutable("postgres", hint)
    const owner = unprivileged()
    const dir = makeTempDir("sluice-pg-", owner)
    try {
      const data = path.join(dir, "data")
      const env = { ...process.env, HOME: dir, LC_ALL: "C", LANG: "C" }
      const init = spawnLogged(
        [
          ...owner.prefix,
          initdb,
          "-D",
          data,
          "-A",
          "trust",
          "-U",
          "postgres",
          "-E",
          "UTF8",
          "--locale=C",
          "--no-sync",
          "--no-instructions"
        ],
        env
      )
      const initTimer = setTimeout(() => init.child.kill("SIGKILL"), startTimeoutMs)
      await init.exited
      clearTimeout(initTimer)
      if (init.child.exitCode !== 0) throw new Error(`initdb failed (${init.child.exitCode}):\n${init.log()}`)
      const port = await freePort()
      const server = spawnLogged(
        [
          ...owner.prefix,
          postgres,
          "-D",
          data,
          "-h",
          "127.0.0.1",
          "-p",
          String(port),
          "-k",
          dir,
          "-c",
          "fsync=off",
          "-c",
          "full_page_writes=off",
          "-c",
          "synchronous_commit=off",
          "-c",
          "max_connections=20",
          "-c",
          "shared_buffers=16MB"
        ],
        env
      )
      try {
        await waitReady("postgres", server, async () => {
          const reply = await exchange(port, sslRequest, (r) => r.length >= 1)
          return reply === "N" || reply === "S"
        })
      } catch (error) {
        await stopChild(server, "SIGKILL")
        throw error
      }
      let stopped: Promise<void> | undefined
      return {
        host: "127.0.0.1",
        port,
        dir,
        socketDir: dir,
        user: "postgres",
        database: "postgres",
        log: server.log,
        // SIGINT = PostgreSQL's "fast" shutdown: abort sessions, exit cleanly
        stop: () => (stopped ??= stopChild(server, "SIGINT").finally(() => removeDir(dir)))
      }
    } catch (error) {
      removeDir(dir)
      throw error
    }
  })

/**
 * Starts a throwaway redis-server (no persistence) on a free loopback port.
 *
 * @since 0.1.0
 */
export const startRedis = (): Promise<RunningServer> =>
  tryStart("redis-server", async () => {
    const redis = findExecutable("redis-server", "install redis-server (Debian: apt-get install redis-server)")
    const dir = makeTempDir("sluice-redis-", { uid: -1, gid: -1, prefix: [] })
    try {
      const port = await freePort()
      const server = spawnLogged(
        [
          redis,
          "--bind",
          "127.0.0.1",
          "--port",
          String(port),
          "--dir",
          dir,
          "--save",
          "",
          "--appendonly",
          "no",
          "--daemonize",
          "no",
          "--protected-mode",
          "yes",
          "--loglevel",
          "warning"
        ],
        process.env
      )
      try {
        await waitReady("redis-server", server, async () => {
          const reply = await exchange(port, new TextEncoder().encode("PING\r\n"), (r) => r.includes("\r\n"))
          return reply === "+PONG\r\n"
        })
      } catch (error) {
        await stopChild(server, "SIGKILL")
        throw error
      }
      let stopped: Promise<void> | undefined
      return {
        host: "127.0.0.1",
        port,
        dir,
        log: server.log,
        stop: () => (stopped ??= stopChild(server, "SIGTERM").finally(() => removeDir(dir)))
      }
    } catch (error) {
      removeDir(dir)
      throw error
    }
  })
