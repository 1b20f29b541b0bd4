/// The protocol's own error table: every error the ICAP layer answers by itself (a request it cannot
/// parse, a service it does not have, a connection it will not take), with the ICAP status each one
/// is answered with. An application keeps its own table for the errors its handler raises; a thrown
/// error that carries a numeric `icapStatus` is answered with that status (see statusOfError).

export const icapErrors = {
  ICAP_BAD_REQUEST: { status: 400, message: 'Malformed ICAP request: %s' },
  ICAP_HEADERS_TOO_LARGE: { status: 400, message: 'ICAP or encapsulated headers too large: %s' },
  ICAP_SERVICE_NOT_FOUND: { status: 404, message: "No ICAP service at '%s'" },
  ICAP_METHOD_NOT_ALLOWED: { status: 405, message: '%s not allowed for %s' },
  ICAP_REQUEST_TIMEOUT: { status: 408, message: 'Request headers not complete within %s ms' },
  ICAP_NOT_IMPLEMENTED: { status: 501, message: 'Method not implemented: %s' },
  ICAP_VERSION_NOT_SUPPORTED: { status: 505, message: 'ICAP version not supported: %s' },
  ICAP_TOO_MANY_CONNECTIONS: { status: 503, message: 'Too many connections (Max-Connections %s)' },
  ICAP_DRAINING: { status: 503, message: 'Not taking new connections on %s: draining' },
  ICAP_HANDLER_FAILED: { status: 500, message: 'The handler failed: %s' },
  ICAP_CLIENT_ABORTED: { status: null, message: 'Client went away mid-transaction: %s' },
  ICAP_CONFIG_INVALID: { status: null, message: 'Invalid ICAP server configuration: %s' },
} as const satisfies Record<string, { status: number | null, message: string }>

export type IcapErrorCode = keyof typeof icapErrors

function format (template: string, args: readonly unknown[]): string {
  let i = 0
  return template.replace(/%s/g, () => String(args[i++] ?? ''))
}

/// An error of the protocol layer. `status` is the ICAP answer (500 for codes that never reach the
/// wire, so a caller that answers anyway sends a server error rather than nothing).
export class IcapError extends Error {
  readonly code: IcapErrorCode
  constructor (code: IcapErrorCode, ...args: unknown[]) {
    super(format(icapErrors[code].message, args))
    this.name = 'IcapError'
    this.code = code
  }

  get icapStatus (): number { return icapErrors[this.code].status ?? 500 }
}

/// The ICAP status for a status-bearing code of this table.
export function statusOf (code: IcapErrorCode): number {
  return icapErrors[code].status ?? 500
}

/// The status to answer a thrown error with: its own `icapStatus` when it has one (IcapError, or an
/// application's error class that reads its status from its own table), else 500.
export function statusOfError (err: unknown): number {
  if (typeof err === 'object' && err !== null && 'icapStatus' in err) {
    const status = (err as { icapStatus: unknown }).icapStatus
    if (typeof status === 'number' && status >= 400 && status <= 599) return status
  }
  return 500
}

export function errorMessage (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
