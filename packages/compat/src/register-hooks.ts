/**
 * The module hooks behind `node --import @sluice/compat/register`: a synchronous,
 * in-thread resolve hook (`module.registerHooks`) that answers every `net` and
 * `node:net` specifier — `require` and static or dynamic
 * `import` of `net` or `node:net` — with compat's module,
 * so unmodified programs and their dependencies run on Sluice.
 *
 * One importer is let through to the real `node:net`: the node driver
 * (`@sluice/node-adapter`), which compat itself runs on. Redirecting it would make
 * compat its own transport. Node's built-in modules (`http`, `tls`, …) load `net`
 * internally, without module hooks: they keep using the real one.
 *
 * Some Node versions have `module.registerHooks` but crash when a hook redirects
 * `require("node:…")` (nodejs/node#60005: 22.15–22.22.2, 23.x, 24.0–24.13.0,
 * 25.0–25.3; found by running the probe on each release's binary). `install` finds out by requiring an empty probe module through the hook
 * under a `node:` specifier, and refuses with a readable error instead of letting
 * the program crash later on its first `require` of `node:net`.
 *
 * @since 0.1.0
 */
import type * as NodeModule from "node:module"

// node:module as `require` gives it (an ESM import of a built-in builds its namespace from every export)
const nodeModule = process.getBuiltinModule("node:module")

/**
 * The specifiers the hook redirects.
 *
 * @category hooks
 * @since 0.1.0
 */
export const netSpecifiers: ReadonlySet<string> = new Set(["net", "node:net"])

/**
 * The specifier of the start-up probe: a `node:` specifier, as a `require` of `node:net` uses.
 *
 * @category hooks
 * @since 0.1.0
 */
export const probeSpecifier = "node:sluice-compat-register-probe"

/**
 * What the resolve hook needs to know.
 *
 * @category hooks
 * @since 0.1.0
 */
export interface HookOptions {
  /** URL of the module every `net` / `node:net` specifier resolves to. */
  readonly target: string
  /** URL prefixes of importers that get the real `node:net` (the node driver's package). */
  readonly passThrough: ReadonlyArray<string>
  /** URL of the empty module `probeSpecifier` resolves to; no start-up probe when absent. */
  readonly probe?: string | undefined
}

/**
 * The `module.registerHooks` API as far as this module uses it, so that a test can
 * pass a stand-in (a Node version without it, for instance).
 *
 * @category hooks
 * @since 0.1.0
 */
export interface ModuleApi {
  readonly registerHooks?: ((options: NodeModule.RegisterHooksOptions) => NodeModule.ModuleHooks) | undefined
}

/**
 * The URL of the directory of the package whose entry point is `entryUrl`
 * (`…/node-adapter/src/index.ts` → `…/node-adapter/`).
 */
const packageDir = (entryUrl: string): string => new URL("../", entryUrl).href

/**
 * The default options: compat's `register-net` module as the target, the node
 * driver's package directory let through, compat's `register-probe` as the probe.
 *
 * @category hooks
 * @since 0.1.0
 */
export const defaultOptions = (): HookOptions => ({
  target: import.meta.resolve("@sluice/compat/register-net"),
  passThrough: [packageDir(import.meta.resolve("@sluice/node-adapter"))],
  probe: import.meta.resolve("@sluice/compat/register-probe")
})

/**
 * The resolve hook: `net` and `node:net` become `options.target`, except for the
 * importers under `options.passThrough`; the probe specifier becomes
 * `options.probe`; every other specifier goes on unchanged.
 *
 * @category hooks
 * @since 0.1.0
 */
export const makeResolve = (options: HookOptions): NodeModule.ResolveHookSync => (specifier, context, nextResolve) => {
  if (specifier === probeSpecifier && options.probe !== undefined) return { url: options.probe, shortCircuit: true }
  if (!netSpecifiers.has(specifier)) return nextResolve(specifier, context)
  const parent = context.parentURL
  if (parent !== undefined && options.passThrough.some((prefix) => parent.startsWith(prefix))) {
    return nextResolve(specifier, context)
  }
  return { url: options.target, shortCircuit: true }
}

/**
 * The Node versions the hook works on.
 *
 * @category hooks
 * @since 0.1.0
 */
export const requiredVersions = "Node >= 22.22.3 on 22.x, >= 24.13.1 on 24.x, >= 25.4.0 on 25.x, or Node >= 26"

const advice = "Upgrade Node, or import net from \"@sluice/compat\" instead of \"node:net\"."

/**
 * The `registerHooks` functions already given the hooks in this process (shared
 * through the global registry, so that a second `--import` or a second copy of this
 * module does nothing).
 */
const installed: WeakSet<object> = ((globalThis as { [key: symbol]: unknown })[
  Symbol.for("@sluice/compat/register")
] ??= new WeakSet<object>()) as WeakSet<object>

/**
 * Registers the hooks, once per process. Throws a readable error on a Node
 * version without `module.registerHooks`, or whose hooks cannot redirect
 * `require("node:…")` (then nothing stays registered).
 *
 * @example
 * ```ts
 * // what `@sluice/compat/register` does
 * import { install } from "@sluice/compat/register-hooks"
 * install()
 * const net = await import("node:net") // compat's module
 * ```
 *
 * @category hooks
 * @since 0.1.0
 */
export const install = (
  api: ModuleApi = nodeModule,
  options: HookOptions = defaultOptions()
): NodeModule.ModuleHooks | undefined => {
  const { registerHooks } = api
  if (typeof registerHooks !== "function") {
    throw new Error(
      `@sluice/compat/register needs module.registerHooks (${requiredVersions}); this is Node ${process.version}. ${advice}`
    )
  }
  if (installed.has(registerHooks)) return undefined
  const hooks = registerHooks({ resolve: makeResolve(options) })
  if (options.probe !== undefined) {
    try {
      nodeModule.createRequire(import.meta.url)(probeSpecifier)
    } catch (cause) {
      hooks.deregister()
      throw new Error(
        `@sluice/compat/register: the module hooks of Node ${process.version} cannot redirect a require of node:net `
          + `(nodejs/node#60005); it needs ${requiredVersions}. ${advice}`,
        { cause }
      )
    }
  }
  installed.add(registerHooks)
  return hooks
}
