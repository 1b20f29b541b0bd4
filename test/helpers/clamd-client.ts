/// A raw clamd-protocol client for tests: writes the request as given (each piece a separate
/// write, so 1-byte chunking really reaches the socket in small pieces), optionally half-closes,
/// and reads to EOF. INSTREAM framing helpers build the chunks.
import { connect } from 'node:net'

export interface Target { readonly host: string, readonly port: number, readonly socket?: string }

/// `<uint32 BE length><bytes>` chunks of `size` bytes, then the zero-length terminator.
export function instream (prefix: 'z' | 'n', body: Uint8Array, size = Math.max(1, body.length)): Buffer {
  const parts: Buffer[] = [Buffer.from(prefix === 'z' ? 'zINSTREAM\0' : 'nINSTREAM\n')]
  for (let at = 0; at < body.length; at += size) {
    const piece = body.subarray(at, at + size)
    const length = Buffer.alloc(4)
    length.writeUInt32BE(piece.length)
    parts.push(length, Buffer.from(piece))
  }
  parts.push(Buffer.alloc(4))
  return Buffer.concat(parts)
}

export function chunkLength (n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}

export interface ExchangeOptions {
  /// Shut the write side after the request (clamdscan and check_clamd do); default true.
  readonly halfClose?: boolean
  /// Write the request in pieces of this many bytes, one write (and one tick) each.
  readonly pieceBytes?: number
  readonly via?: 'tcp' | 'unix'
  readonly timeoutMs?: number
}

/// Sends `request` and returns everything read until the server closes.
export async function exchange (target: Target, request: Uint8Array, options: ExchangeOptions = {}): Promise<Buffer> {
  const socket = options.via === 'unix' ? connect(target.socket ?? '') : connect(target.port, target.host)
  const chunks: Buffer[] = []
  return await new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no EOF within ${options.timeoutMs ?? 30_000} ms; got ${JSON.stringify(Buffer.concat(chunks).toString('latin1'))}`)) }, options.timeoutMs ?? 30_000)
    socket.on('data', d => chunks.push(d))
    socket.on('error', err => { clearTimeout(timer); reject(err) })
    socket.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(chunks)) })
    socket.on('connect', () => {
      void (async () => {
        const step = options.pieceBytes ?? request.length
        for (let at = 0; at < request.length; at += step) {
          socket.write(request.subarray(at, at + step))
          if (step < request.length) await new Promise(resolve => setImmediate(resolve))
        }
        if (options.halfClose ?? true) socket.end()
      })()
    })
  })
}
