/// The one error table: every thrown error carries a stable code, and the row says how each wire
/// protocol renders it (fastify's createError table, undici's one class per family).
/// Scan outcomes that look like errors (limits, broken or encrypted archives) are Findings, never errors.

export const codes = {
  ICAP_BAD_REQUEST: { icap: 400, message: 'Malformed ICAP request: %s' },
  ICAP_HEADERS_TOO_LARGE: { icap: 400, message: 'ICAP or encapsulated headers too large: %s' },
  ICAP_SERVICE_NOT_FOUND: { icap: 404, message: "No ICAP service at '%s'" },
  ICAP_METHOD_NOT_ALLOWED: { icap: 405, message: '%s not allowed for %s' },
  ICAP_REQUEST_TIMEOUT: { icap: 408, message: 'Request timed out: %s' },
  ICAP_NOT_IMPLEMENTED: { icap: 501, message: 'Method not implemented: %s' },
  ICAP_VERSION_NOT_SUPPORTED: { icap: 505, message: 'ICAP version not supported: %s' },
  ICAP_TOO_MANY_CONNECTIONS: { icap: 503, message: 'Too many connections (Max-Connections %s)' },
  ICAP_CLIENT_ABORTED: { icap: null, message: 'Client went away mid-transaction: %s' },
  SCAN_QUEUE_FULL: { icap: 503, message: 'Scan queue is full' },
  SCAN_TIMEOUT: { icap: 500, message: 'Scan exceeded its time budget of %s ms' },
  SCAN_WORKER_CRASHED: { icap: 500, message: 'Scan worker failed: %s' },
  SCAN_SPOOL_FAILED: { icap: 500, message: 'Spool file error: %s' },
  SCAN_ABORTED: { icap: null, message: 'Scan aborted: %s' },
  SCAN_ENGINE_FAILED: { icap: 500, message: 'Scan engine fault: %s' },
  SCAN_BAD_RESULT: { icap: 500, message: 'Malformed worker result: %s' },
  SIGDB_NOT_LOADED: { icap: 503, message: 'Signature database not loaded' },
  SIGDB_INVALID: { icap: null, message: 'Invalid signature database: %s' },
  SHUTTING_DOWN: { icap: 503, message: 'Node is shutting down' },
  CLUSTER_NETFILTER: { icap: null, message: 'Cluster filter (nftables) failed: %s' },
  CLUSTER_CONTROL: { icap: null, message: 'Cluster control: %s' },
  CONFIG_INVALID: { icap: null, message: 'Invalid configuration: %s' },
  INTERNAL: { icap: 500, message: 'Internal error: %s' },
} as const satisfies Record<string, { icap: number | null, message: string }>

export type ErrorCode = keyof typeof codes

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

  get icapStatus (): number { return codes[this.code].icap ?? 500 }
}

export function isScanwallError (err: unknown): err is ScanwallError {
  return err instanceof ScanwallError
}

export function errorMessage (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
