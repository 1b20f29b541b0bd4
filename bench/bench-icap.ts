/// Drives the peer harness's `bench-icap` load generator (../shared/peers/bench-icap: RESPMOD with
/// Preview, Allow: 204, keep-alive, unique bodies) against any ICAP server and reads its one JSON
/// line. Using the same generator for c-icap and for Scanwall keeps the comparison fair.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

export interface IcapTarget { readonly host: string, readonly port: number, readonly service: string }

export interface CellResult {
  readonly requests: number
  readonly errors: number
  readonly rps: number
  readonly MBps: number
  readonly p50: number | null
  readonly p99: number | null
  readonly statuses: Readonly<Record<string, number>>
  readonly elapsedS: number
  readonly errorSamples: readonly string[]
}

export interface CellRequest {
  readonly size: string
  readonly concurrency: number
  readonly seconds: number
  readonly extra?: readonly string[]
  readonly timeoutS?: number
}

const num = (value: unknown, field: string): number => {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`bench-icap: ${field} is not a number`)
  return value
}
const numOrNull = (value: unknown, field: string): number | null => value === null ? null : num(value, field)

/// Narrows bench-icap's JSON line (untrusted text from a child process) to a CellResult.
export function parseBenchLine (line: string): CellResult {
  const data: unknown = JSON.parse(line)
  if (typeof data !== 'object' || data === null) throw new Error('bench-icap: not an object')
  const d = data as Record<string, unknown>
  const statuses: Record<string, number> = {}
  if (typeof d['statuses'] === 'object' && d['statuses'] !== null) {
    for (const [k, v] of Object.entries(d['statuses'])) statuses[k] = num(v, `statuses.${k}`)
  }
  const samples = Array.isArray(d['error_samples']) ? d['error_samples'].map(String) : []
  return {
    requests: num(d['requests'], 'requests'),
    errors: num(d['errors'], 'errors'),
    // Nothing completed: bench-icap divides 0 by 0 and prints null.
    rps: numOrNull(d['rps'], 'rps') ?? 0,
    MBps: numOrNull(d['MBps'], 'MBps') ?? 0,
    p50: numOrNull(d['p50_ms'], 'p50_ms'),
    p99: numOrNull(d['p99_ms'], 'p99_ms'),
    statuses,
    elapsedS: num(d['elapsed_s'], 'elapsed_s'),
    errorSamples: samples,
  }
}

export async function runBenchIcap (benchIcap: string, target: IcapTarget, cell: CellRequest): Promise<CellResult> {
  const args = [benchIcap, target.host, String(target.port), target.service, cell.size, String(cell.concurrency), String(cell.seconds),
    '--timeout', String(cell.timeoutS ?? 300), ...(cell.extra ?? [])]
  const { stdout } = await execFileAsync(process.execPath, args, { maxBuffer: 1 << 20, timeout: ((cell.timeoutS ?? 300) + cell.seconds + 60) * 1000 })
  const line = stdout.trim().split('\n').pop() ?? ''
  return parseBenchLine(line)
}
