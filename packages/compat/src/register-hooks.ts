/**
 * The module hooks behind `node --import @sluice/compat/register`: a synchronous,
 * in-thread resolve hook (`module.registerHooks`) that answers every `net` and
 * `node:net` specifier — `require("net")`, `require("node:net")`,
 * `import … from "net" | "node:net"`, `import("node:net")` — with compat's module,
 * so unmodified programs and their dependencies run on Sluice.
 *
 * One importer is let through to the real `node:net`: the node driver
 * (`@sluice/node-adapter`), which compat itself runs on. Redirecting it would make
 * compat its own transport. Node's built-in modules (`http`, `tls`, …) load `net`
 * internally, without module hooks: they keep using the real one.
 *
 * @since 0.1.0
 */
import * as nodeModule from "node:module"

/**
 * The specifiers the hook redirects.
 *
 * @category hooks
 * @since 0.1.0
 */
export const netSpecifiers: ReadonlySet<string> = new Set(["net", "node:net"])

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
}

/**
 * The `module.registerHooks` API as far as this module uses it, so that a test can
 * pass a stand-in (a Node version without it, for instance).
 *
 * @category hooks
 * @since 0.1.0
 */
export interface ModuleApi {
  readonly registerHooks?: ((options: nodeModule.RegisterHooksOptions) => nodeModule.ModuleHooks) | undefined
}

/**
 * The URL of the directory of the package whose entry point is `entryUrl`
 * (`…/node-adapter/src/index.ts` → `…/node-adapter/`).
 */
const packageDir = (entryUrl: string): string => new URL("../", entryUrl).href

/**
 * The default options: compat's `register-net` module as the target, the node
 * driver's package directory let through.
 *
 * @category hooks
 * @since 0.1.0
 */
export const defaultOptions = (): HookOptions => ({
  target: import.meta.resolve("@sluice/compat/register-net"),
  passThrough: [packageDir(import.meta.resolve("@sluice/node-adapter"))]
})

/**
 * The resolve hook: `net` and `node:net` become `options.target`, except for the
 * importers under `options.passThrough`; every other specifier goes on unchanged.
 *
 * @category hooks
 * @since 0.1.0
 */
export const makeResolve = (options: HookOptions): nodeModule.ResolveHookSync => (specifier, context, nextResolve) => {
  if (!netSpecifiers.has(specifier)) return nextResolve(specifier, context)
  const parent = context.parentURL
  if (parent !== undefined && options.passThrough.some((prefix) => parent.startsWith(prefix))) {
    return nextResolve(specifier, context)
  }
  return { url: options.target, shortCircuit: true }
}

/**
 * The earliest Node versions with `module.registerHooks`.
 *
 * @category hooks
 * @since 0.1.0
 */
export const requiredVersions = "Node >= 22.15 (22.x) or >= 23.5"

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
 * version without `module.registerHooks`.
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
): nodeModule.ModuleHooks | undefined => {
  const { registerHooks } = api
  if (typeof registerHooks !== "function") {
    throw new Error(
      `@sluice/compat/register needs module.registerHooks (${requiredVersions}); this is Node ${process.version}. `
        + "Upgrade Node, or import net from \"@sluice/compat\" instead of \"node:net\"."
    )
  }
  if (installed.has(registerHooks)) return undefined
  installed.add(registerHooks)
  return registerHooks({ resolve: makeResolve(options) })
}
