/// The one error table: every thrown error carries a stable code, and the row says how each wire
/// protocol renders it (fastify's createError table, undici's one class per family). The ICAP
/// protocol's own errors (bad requests, unknown services, refused connections) are the ICAP
/// package's table (icap-server-lite's icapErrors); docs/icap.md lists both, and a test holds the
/// page to them. `icap: null`: the error never becomes an ICAP answer of its own.
/// Scan outcomes that look like errors (limits, broken or encrypted archives) are Findings, never errors.

export const codes = {
  SCAN_QUEUE_FULL: { icap: 503, message: 'Scan queue is full' },
  SCAN_TIMEOUT: { icap: 500, message: 'Scan exceeded its time budget of %s ms' },
  SCAN_WORKER_CRASHED: { icap: 500, message: 'Scan worker failed: %s' },
  SCAN_SPOOL_FAILED: { icap: 500, message: 'Spool file error: %s' },
  SCAN_ABORTED: { icap: null, message: 'Scan aborted: %s' },
  SCAN_ENGINE_FAILED: { icap: 500, message: 'Scan engine fault: %s' },
  SCAN_BAD_RESULT: { icap: 500, message: 'Malformed worker result: %s' },
  SIGDB_INVALID: { icap: null, message: 'Invalid signature database: %s' },
  CLUSTER_NETFILTER: { icap: null, message: 'Cluster filter (nftables) failed: %s' },
  CLUSTER_CONTROL: { icap: null, message: 'Cluster control: %s' },
  CONFIG_INVALID: { icap: null, message: 'config: %s' },
  QUARANTINE: { icap: null, message: 'Quarantine: %s' },
  INTERNAL: { icap: 500, message: 'Internal error: %s' },
} as const satisfies Record<string, { icap: number | null, message: string }>

export type ErrorCode = keyof typeof codes

/// The ICAP status an error code is answered with (500 for codes that are never an answer of their
/// own, should one reach the wire anyway).
export function icapStatusOf (code: ErrorCode): number {
  return codes[code].icap ?? 500
}

function format (template: string, args: readonly unknown[]): string {
  let i = 0
  return template.replace(/%s/g, () => String(args[i++] ?? ''))
}

/// Every error Scanwall throws on purpose. Match on `code` outside the module that throws:
/// instanceof does not survive the worker boundary.
export class ScanwallError extends Error {
  readonly code: ErrorCode
  constructor (code: ErrorCode, ...args: unknown[]) {
    super(format(codes[code].message, args))
    this.name = 'ScanwallError'
    this.code = code
  }

  get icapStatus (): number { return icapStatusOf(this.code) }
}

/// Narrows a code that crossed a boundary (a worker's answer) to the table's union.
export function isErrorCode (code: string): code is ErrorCode {
  return Object.hasOwn(codes, code)
}

export function isScanwallError (err: unknown): err is ScanwallError {
  return err instanceof ScanwallError
}

export function errorMessage (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
