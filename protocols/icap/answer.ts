/// Turns a transaction whose body has fully arrived into its ICAP answer: scan, decide, and write
/// 204 / 206 / 200 echo (clean), 200 + block page (blocked), 503 (no verdict: queue full), or the
/// 404/405 and OPTIONS answers that need no scan. The decision waits for the whole scan: nothing of
/// an infected object is ever sent (SQUID-NOTES §3.1).
import type { Socket } from 'node:net'
import { once } from 'node:events'
import { readSource, releaseSource, type BodySource } from '../../src/scan/body.js'
import { decide } from '../../src/policy/decide.js'
import { ScanwallError } from '../../src/errors.js'
import { chunkHeader, lastChunk } from './chunked.js'
import type { IcapContext } from './context.js'
import type { Transaction } from './transaction.js'

const crlfLast = Buffer.from('\r\n' + lastChunk, 'latin1')
const lastChunkBuf = Buffer.from(lastChunk, 'latin1')
const crlf = Buffer.from('\r\n', 'latin1')

/// Threat reported for bodies over scan.maxObjectBytes when scan.oversize is `block`.
export const oversizeThreat = 'Heuristics.Limits.Exceeded.MaxObjectSize'

function gone (socket: Socket): boolean { return socket.destroyed || !socket.writable }

async function drained (socket: Socket): Promise<void> {
  if (!socket.writableNeedDrain || gone(socket)) return
  const ac = new AbortController()
  // Resolves on drain, or when the socket closes (then the caller sees it is gone).
  await Promise.race([once(socket, 'drain', { signal: ac.signal }), once(socket, 'close', { signal: ac.signal })]).catch(() => {})
  ac.abort()
}

/// Writes the original body as one chunk (memory) or a chunk per read (spool file), then the last chunk.
async function writeBody (socket: Socket, body: BodySource): Promise<void> {
  const source = readSource(body)
  if (source instanceof Uint8Array) {
    if (source.length > 0) {
      socket.write(chunkHeader(source.length), 'latin1')
      socket.write(source)
      socket.write(crlfLast)
    } else {
      socket.write(lastChunkBuf)
    }
    return
  }
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      if (gone(socket)) throw new ScanwallError('ICAP_CLIENT_ABORTED', 'while echoing the body')
      socket.cork()
      socket.write(chunkHeader(chunk.length), 'latin1')
      socket.write(chunk)
      socket.write(crlf)
      socket.uncork()
      await drained(socket)
    }
  } finally {
    source.destroy()
  }
  socket.write(lastChunkBuf)
}

/// The clean answer: 206 use-original-body in place of 100 Continue when the client offered it, else
/// 204 when allowed, else 200 with the original headers and body, byte for byte.
async function sendClean (tx: Transaction, ctx: IcapContext, socket: Socket, close: boolean, body: BodySource | undefined): Promise<void> {
  const { responder } = ctx
  tx.action = 'allow'
  if (tx.may206(ctx)) {
    tx.status = 206
    socket.write(responder.echo(tx.request, 206, close).head)
    return
  }
  if (tx.may204) {
    tx.status = 204
    socket.write(responder.simple(204, close))
    return
  }
  const echo = responder.echo(tx.request, 200, close)
  if (echo.body && body === undefined) throw new ScanwallError('INTERNAL', 'no body to echo')
  tx.status = 200
  if (!echo.body || body === undefined) {
    socket.write(echo.head)
    return
  }
  if (body.kind === 'memory') {
    // One writev for head, chunk header, body and last chunk; the body is not copied.
    socket.cork()
    socket.write(echo.head)
    const pending = writeBody(socket, body)
    socket.uncork()
    await pending
    return
  }
  socket.write(echo.head)
  await writeBody(socket, body)
}

function sendBlock (tx: Transaction, ctx: IcapContext, socket: Socket, close: boolean, threat: string): void {
  tx.status = 200
  tx.action = 'block'
  tx.threat = threat
  socket.write(ctx.responder.block(threat, tx.url, tx.service?.name ?? '-', close))
}

/// Writes the final answer for `tx`. Throws only for internal failures (spool, echo); the caller
/// answers those with 500 if nothing was written yet.
export async function answer (tx: Transaction, ctx: IcapContext, socket: Socket, close: boolean): Promise<void> {
  const { responder, deps } = ctx
  if (tx.rejection !== undefined) {
    tx.status = tx.rejection.status
    socket.write(responder.simple(tx.rejection.status, close))
    return
  }
  if (tx.request.method === 'OPTIONS' && tx.service !== undefined) {
    tx.status = 200
    socket.write(responder.options(tx.service, ctx.optionsSettings, close))
    return
  }
  if (!tx.hasBody) {
    tx.verdict = 'no-body'
    await sendClean(tx, ctx, socket, close, undefined)
    return
  }
  const sink = tx.sink
  tx.sink = undefined
  if (tx.oversize) {
    tx.verdict = 'oversize'
    if (ctx.options.oversize === 'block' || sink === undefined || tx.may204 || tx.may206(ctx)) {
      await sink?.discard()
      if (ctx.options.oversize === 'block') sendBlock(tx, ctx, socket, close, oversizeThreat)
      else await sendClean(tx, ctx, socket, close, undefined)
      return
    }
    const kept = await sink.finish()
    try { await sendClean(tx, ctx, socket, close, kept) } finally { await releaseSource(kept) }
    return
  }
  if (sink === undefined) throw new ScanwallError('INTERNAL', 'body without a sink')
  const source = await sink.finish()
  try {
    const keepBody = !(tx.may204 || tx.may206(ctx))
    const outcome = await deps.scan.scan(source, tx.controller.signal, keepBody, tx.service?.name)
    const verdict = outcome.verdict
    tx.verdict = verdict.status
    tx.threat = verdict.findings[0]?.name
    const decision = decide(verdict, deps.profile)
    switch (decision.action) {
      case 'allow':
        await sendClean(tx, ctx, socket, close, outcome.body)
        return
      case 'block':
        sendBlock(tx, ctx, socket, close, decision.threat)
        return
      case 'fail':
        if (decision.code === 'SCAN_ABORTED' || tx.controller.signal.aborted) {
          tx.outcome = 'aborted'
          return
        }
        tx.status = 503
        tx.outcome = 'error'
        socket.write(responder.simple(503, close))
    }
  } finally {
    await releaseSource(source)
  }
}
