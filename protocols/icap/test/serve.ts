/// A loopback IcapServer for one test suite: the options the package's server tests share (a small
/// preview, short timeouts, four connections), started before the suite and closed after it, with
/// every transaction record kept for the tests to read.
import { IcapServer, type IcapHandler, type IcapServerOptions, type TransactionRecord } from '../index.js'

export const testServerOptions: IcapServerOptions = {
  host: '127.0.0.1',
  port: 0,
  services: ['scan'],
  maxConnections: 4,
  previewBytes: 16,
  transferPreview: '*',
  transferIgnore: '',
  transferComplete: '',
  optionsTtlSeconds: 60,
  allow206: false,
  idleTimeoutMs: 5_000,
  headerTimeoutMs: 5_000,
  bodyTimeoutMs: 5_000,
  bodyStallWarnMs: 0,
  maxHeaderBytes: 8192,
  maxHeaderCount: 50,
  maxBodyBytes: 1 << 20,
}

export interface SuiteServer<B> {
  readonly server: IcapServer<B>
  readonly records: TransactionRecord[]
  /// The listening port (set once the suite's `before` ran).
  readonly port: number
}

/// Call inside a `describe`: registers the suite's before/after hooks.
export function serveSuite<B> (handler: IcapHandler<B>, overrides: Partial<IcapServerOptions> = {}): SuiteServer<B> {
  const server = new IcapServer({ ...testServerOptions, ...overrides }, handler)
  const records: TransactionRecord[] = []
  server.on('transaction', r => { records.push(r) })
  let port = 0
  before(async () => { port = (await server.listen()).port })
  after(async () => { await server.close(1_000) })
  return { server, records, get port () { return port } }
}
