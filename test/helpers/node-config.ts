/// The configuration an in-process test node (startNode) starts from: its own id and spool, one scan
/// worker, no SNMP, and no listener on a default port (ICAP on a free port; clamd, milter and the
/// console off), so suites and several developers' runs can share one machine. A suite spreads it
/// first and then names what it is about; a section it names replaces this one whole.
import { join } from 'node:path'

export function testNodeConfig (dir: string, id: string): Record<string, unknown> {
  return {
    node: { id },
    icap: { port: 0 },
    clamd: { port: 0 },
    milter: { port: 0 },
    console: { port: 0 },
    snmp: { enabled: false },
    scan: { workers: 1, spoolDir: join(dir, 'spool') },
  }
}
