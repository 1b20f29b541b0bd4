/// Turns a transaction whose body has arrived (or that is decided inside its preview) into its ICAP
/// answer: OPTIONS and 404/405 need no handler; everything else goes to the handler, and its answer
/// becomes 206 / 204 / 200 echo (allow: whichever the client takes), 200 with the replacement HTTP
/// response, an error status, or nothing (abort). The answer waits for the whole decision: nothing of
/// a blocked object is ever sent (SQUID-NOTES §3.1), except in trickle mode (trickle.ts), where the
/// echo already streams and a block cuts it; an answer from the headers alone (the handler's
/// `early`) needs no body.
import type { Socket } from 'node:net'
import { once } from 'node:events'
import { chunkHeader, lastChunk } from './chunked.js'
import { IcapError } from './errors.js'
import type { IcapContext } from './context.js'
import type { Transaction } from './transaction.js'
import type { IcapAnswer, ReceivedBody } from './handler.js'

const crlfLast = Buffer.from('\r\n' + lastChunk, 'latin1')
const lastChunkBuf = Buffer.from(lastChunk, 'latin1')
const crlf = Buffer.from('\r\n', 'latin1')

function gone (socket: Socket): boolean { return socket.destroyed || !socket.writable }

async function drained (socket: Socket): Promise<void> {
  if (!socket.writableNeedDrain || gone(socket)) return
  const ac = new AbortController()
  // Resolves on drain, or when the socket closes (then the caller sees it is gone).
  await Promise.race([once(socket, 'drain', { signal: ac.signal }), once(socket, 'close', { signal: ac.signal })]).catch(() => {})
  ac.abort()
}

/// Writes the original body as one chunk (all in memory) or a chunk per read (a stream), then the
/// last chunk.
async function writeBody (socket: Socket, ctx: IcapContext, body: unknown): Promise<void> {
  const source = ctx.handler.bodies.read(body)
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
    for await (const chunk of source) {
      if (gone(socket)) throw new IcapError('ICAP_CLIENT_ABORTED', 'while echoing the body')
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

/// The unchanged answer: 206 use-original-body in place of 100 Continue when the client offered it,
/// else 204 when allowed, else 200 with the original headers and body, byte for byte. A promise only
/// while a body is echoed: the 204 of a clean object is written with no promise to wait for.
function sendUnchanged (tx: Transaction, ctx: IcapContext, socket: Socket, close: boolean, body: unknown): Promise<void> | undefined {
  const { responder } = ctx
  if (tx.may206(ctx)) {
    tx.status = 206
    socket.write(responder.echo(tx.request, 206, close).head)
    return undefined
  }
  if (tx.may204) {
    tx.status = 204
    socket.write(responder.simple(204, close))
    return undefined
  }
  return sendEcho(tx, ctx, socket, close, body)
}

/// The 200 echo of the original message.
async function sendEcho (tx: Transaction, ctx: IcapContext, socket: Socket, close: boolean, body: unknown): Promise<void> {
  const { responder } = ctx
  const echo = responder.echo(tx.request, 200, close)
  if (echo.body && body === undefined) throw new IcapError('ICAP_HANDLER_FAILED', 'an allow answer that needs an echo came without the body')
  tx.status = 200
  if (!echo.body) {
    socket.write(echo.head)
    return
  }
  // Head, chunk header, body and last chunk in one writev when the body is in memory (not copied).
  socket.cork()
  socket.write(echo.head)
  const pending = writeBody(socket, ctx, body)
  socket.uncork()
  await pending
}

/// What the handler gets as the body: finished from the store, or dropped when over the limit and no
/// echo can need it.
async function receivedBody (tx: Transaction, echoNeeded: boolean): Promise<ReceivedBody<unknown> | undefined> {
  if (!tx.hasBody) return undefined
  const writer = tx.writer
  tx.writer = undefined
  const size = tx.overLimit && tx.declared !== undefined ? Math.max(tx.declared, tx.bodyBytes) : tx.bodyBytes
  if (writer === undefined || (tx.overLimit && !echoNeeded)) {
    await writer?.discard()
    if (!tx.overLimit) throw new IcapError('ICAP_HANDLER_FAILED', 'a body that was not kept')
    return { size, overLimit: true, stored: undefined }
  }
  return { size, overLimit: tx.overLimit, stored: await writer.finish() }
}

/// Writes the final answer for `tx`. Throws for failures of the store, the handler or the echo; the
/// caller answers those with their status if nothing was written yet.
export async function answer (tx: Transaction, ctx: IcapContext, socket: Socket, close: boolean): Promise<void> {
  const { responder } = ctx
  const service = tx.service
  if (tx.rejection !== undefined || service === undefined) {
    tx.status = tx.rejection?.status ?? 404
    socket.write(responder.simple(tx.status, close))
    return
  }
  if (tx.request.method === 'OPTIONS') {
    tx.status = 200
    const lists = ctx.handler.transferLists?.(service)
    socket.write(responder.options(service, lists === undefined ? ctx.optionsSettings : { ...ctx.optionsSettings, ...lists }, close))
    return
  }
  if (tx.early !== undefined) {
    // Decided from the headers alone (IcapHandler.early): the body was skipped, not stored.
    await sendDecision(tx, ctx, socket, close, tx.early, false)
    return
  }
  // A trickle whose head never went out (the body ended with the preview) is an ordinary echo.
  if (tx.trickle?.started === false) tx.trickle = undefined
  const info = tx.info(ctx, service)
  const trickle = tx.trickle
  // The 200 is on the wire: a failure from here on can only cut the connection.
  if (trickle !== undefined) tx.status = 200
  const body = await receivedBody(tx, info.echoNeeded)
  const decision = await ctx.handler.respond(info, body, tx.controller.signal)
  if (trickle !== undefined) {
    tx.answer = decision
    if (decision.kind === 'allow') {
      if (decision.body !== undefined) await ctx.handler.bodies.release(decision.body)
      trickle.finish()
      return
    }
    // Not clean: the client keeps a truncated copy without its held-back tail.
    tx.outcome = decision.kind === 'abort' ? 'aborted' : 'partially-blocked'
    socket.destroy()
    return
  }
  const sending = sendDecision(tx, ctx, socket, close, decision, info.echoNeeded)
  if (sending !== undefined) await sending
}

/// Writes the handler's decision as its ICAP answer; a promise only while something is awaited (an
/// echo, or the release of a body handed back).
function sendDecision (tx: Transaction, ctx: IcapContext, socket: Socket, close: boolean, decision: IcapAnswer<unknown>, echoNeeded: boolean): Promise<void> | undefined {
  const { responder } = ctx
  tx.answer = decision
  switch (decision.kind) {
    case 'allow':
      if (decision.body === undefined) return sendUnchanged(tx, ctx, socket, close, undefined)
      return sendAndRelease(tx, ctx, socket, close, decision.body, echoNeeded)
    case 'replace':
      tx.status = 200
      socket.write(responder.replace(decision.http, decision.icapHeaders ?? [], close))
      return
    case 'error':
      if (tx.controller.signal.aborted) {
        tx.outcome = 'aborted'
        return
      }
      tx.status = decision.status
      tx.outcome = 'error'
      socket.write(responder.simple(decision.status, close))
      return
    case 'abort':
      tx.outcome = 'aborted'
  }
  return undefined
}

/// The unchanged answer for a body the handler handed back (echoed when needed), released after.
async function sendAndRelease (tx: Transaction, ctx: IcapContext, socket: Socket, close: boolean, body: unknown, echoNeeded: boolean): Promise<void> {
  try {
    await sendUnchanged(tx, ctx, socket, close, echoNeeded ? body : undefined)
  } finally {
    await ctx.handler.bodies.release(body)
  }
}
