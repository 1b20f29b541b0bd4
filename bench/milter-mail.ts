/// The mail cell's messages, made per message id so that no two are alike (nothing can be answered
/// from a verdict cache): a 10 KiB plain-text mail, and a 1 MiB mail with a zip attachment (a text
/// note plus a stored binary whose bytes change per message, CRCs right, so both scanners open the
/// zip and read all of it). CRLF line ends, base64 in 76-character lines, nothing to dot-stuff.
import { randomBytes } from 'node:crypto'
import { crc32 } from 'node:zlib'
import { zipOf } from '../test/helpers/zipwriter.js'

export type MailKind = 'text' | 'zip'

const words = 'the quarterly report attached below covers shipping volumes invoices and the open questions from last week meeting please review before friday'.split(' ')

function headers (id: number, extra: readonly string[]): string {
  return ['From: <load@bench.scanwall.test>', 'To: <sink@bench.scanwall.test>', `Subject: bench message ${id}`, `Message-ID: <${id}.${process.pid}@bench.scanwall.test>`,
    `X-Bench-Id: ${id}`, 'MIME-Version: 1.0', ...extra, '', ''].join('\r\n')
}

/// About `bytes` of readable text in 72-character lines, the id woven in.
function prose (id: number, bytes: number): string {
  const lines: string[] = []
  let size = 0
  for (let i = 0; size < bytes; i++) {
    let line = `${id}-${i}`
    while (line.length < 66) line += ` ${words[(i * 7 + line.length + id) % words.length] ?? ''}`
    lines.push(line)
    size += line.length + 2
  }
  return lines.join('\r\n') + '\r\n'
}

/// Base64 in 76-character lines with CRLF, written straight into one Buffer.
function base64Lines (bytes: Buffer): Buffer {
  const text = bytes.toString('base64')
  const lines = Math.ceil(text.length / 76)
  const out = Buffer.allocUnsafe(text.length + 2 * lines)
  let at = 0
  for (let i = 0; i < text.length; i += 76) {
    at += out.write(text.slice(i, i + 76), at, 'latin1')
    at += out.write('\r\n', at, 'latin1')
  }
  return out.subarray(0, at)
}

export function textMail (id: number, bytes = 10 * 1024): Buffer {
  const head = headers(id, ['Content-Type: text/plain; charset=us-ascii'])
  return Buffer.from(head + prose(id, bytes - head.length), 'latin1')
}

/// The binary's size, so that the whole message (base64 is 4/3 plus CRLF per 76 characters) is ~1 MiB.
const binaryBytes = Math.floor((1024 * 1024 - 2048) * 57 / 78)
const binaryTemplate = randomBytes(binaryBytes)

export function zipMail (id: number): Buffer {
  const binary = Buffer.from(binaryTemplate)
  // A different 4 bytes every 64 KiB: no two attachments (nor their blocks) alike.
  for (let at = 0; at + 4 <= binary.length; at += 65536) binary.writeUInt32LE((id * 2654435761 + at) >>> 0, at)
  const note = Buffer.from(prose(id, 600), 'latin1')
  const zip = zipOf([
    { name: 'note.txt', method: 0, data: note, size: note.length, crc: crc32(note) },
    { name: `figures-${id}.bin`, method: 0, data: binary, size: binary.length, crc: crc32(binary) },
  ])
  const head = headers(id, ['Content-Type: multipart/mixed; boundary="b-bench"'])
  return Buffer.concat([
    Buffer.from(`${head}--b-bench\r\nContent-Type: text/plain\r\n\r\n${prose(id, 400)}\r\n--b-bench\r\nContent-Type: application/zip; name="figures.zip"\r\n` +
      'Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="figures.zip"\r\n\r\n', 'latin1'),
    base64Lines(zip),
    Buffer.from('--b-bench--\r\n', 'latin1'),
  ])
}

export function mailOf (kind: MailKind): (id: number) => Buffer {
  return kind === 'text' ? id => textMail(id) : zipMail
}
