/**
 * `node --import @sluice/compat/register app.js`: every `require` and
 * `import` of `net` or `node:net` in the process —
 * the program's and its dependencies' — gets `@sluice/compat` over the node driver,
 * so unmodified code runs on Sluice's engine.
 *
 * Needs `module.registerHooks` (Node >= 22.15 or >= 23.5); on an older Node,
 * importing this module throws an error saying so. See `register-hooks.ts`.
 *
 * @example
 * ```sh
 * node --import @sluice/compat/register server.js
 * NODE_OPTIONS="--import @sluice/compat/register" npm start
 * ```
 *
 * @since 0.1.0
 */
import { install } from "./register-hooks.ts"

install()
