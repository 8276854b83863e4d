/**
 * The compat project's global setup: before any test file runs, the servers
 * the real-client tests start (redis-server, PostgreSQL) are installed from
 * Debian's packages where they are missing, so `npm test` needs nothing but
 * Node and the repository (`servers.ts`, `installMissing`).
 */
import { installMissing } from "./servers.ts"

export default function setup(): void {
  installMissing()
}
