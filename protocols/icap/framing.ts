/// The client's side of framing: where one complete ICAP response ends in a byte stream (after its
/// header block, the encapsulated header parts its Encapsulated offsets name, and its chunked body up
/// to the last chunk). For clients, probes and tests that read several answers from one connection.

/// End offset of the complete response that starts at `start` in `buf`; -1 while incomplete.
/// Throws on a chunk size line that is not hexadecimal (the stream cannot be framed any further).
export function responseEnd (buf: Buffer, start: number): number {
  const headEnd = buf.indexOf('\r\n\r\n', start)
  if (headEnd < 0) return -1
  const enc = /\r\nEncapsulated: *([^\r\n]*)/i.exec(buf.toString('latin1', start, headEnd))?.[1]
  let pos = headEnd + 4
  if (enc === undefined) return pos // 100 Continue
  const last = enc.split(',').map(s => s.trim().split('=')).pop()
  pos += Number(last?.[1] ?? 0)
  if (pos > buf.length) return -1
  if (last?.[0] === 'null-body') return pos
  for (;;) {
    const nl = buf.indexOf('\r\n', pos)
    if (nl < 0) return -1
    const size = parseInt(buf.toString('latin1', pos, nl).split(';')[0] ?? '', 16)
    if (Number.isNaN(size)) throw new Error(`bad chunk size line in response at ${pos}`)
    if (size === 0) {
      const end = buf.indexOf('\r\n\r\n', nl)
      return end < 0 ? -1 : end + 4
    }
    pos = nl + 2 + size + 2
    if (pos > buf.length) return -1
  }
}
