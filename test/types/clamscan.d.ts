/// The part of the npm `clamscan` package (2.4, plain JavaScript without types) the clamd suite
/// uses, typed for strict TypeScript.
declare module 'clamscan' {
  import type { Readable } from 'node:stream'

  interface ClamdscanSettings {
    socket?: string | false
    host?: string | false
    port?: number | false
    timeout?: number
    localFallback?: boolean
    multiscan?: boolean
    active?: boolean
    bypassTest?: boolean
  }

  interface ScanResult { file: string | null, isInfected: boolean | null, viruses: string[] }
  interface DirResult { path: string, isInfected: boolean, goodFiles: string[], badFiles: string[], viruses: string[], errors: Record<string, unknown> }

  class NodeClam {
    init (options: { clamdscan: ClamdscanSettings, clamscan?: { active: boolean }, preference?: 'clamdscan' | 'clamscan', debugMode?: boolean }): Promise<NodeClam>
    getVersion (): Promise<string>
    ping (): Promise<unknown>
    isInfected (file: string): Promise<ScanResult>
    scanStream (stream: Readable): Promise<ScanResult>
    scanDir (path: string): Promise<DirResult>
  }
  export default NodeClam
}
