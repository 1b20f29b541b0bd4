/// Test helpers for the signature engine: compile a DB from in-memory file texts, match bytes in
/// chosen chunk sizes, and build ClamAV containers (tar, .cvd) from parts.
import { createHash } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { compileDb } from '../../src/engine/matcher/build.js'
import { Matcher } from '../../src/engine/matcher/matcher.js'
import type { CompiledDb } from '../../src/engine/matcher/db.js'
import type { FileType } from '../../src/engine/filetype.js'

export function compileText (files: Record<string, string | Uint8Array>, lenient = false): CompiledDb {
  const list = Object.entries(files).map(([name, text]) => ({ name, data: typeof text === 'string' ? Buffer.from(text) : text }))
  return compileDb(list, 'test', { lenient })
}

export function matcherFor (files: Record<string, string | Uint8Array>): Matcher {
  return new Matcher(compileText(files))
}

/// Names found in `bytes`, fed in chunks of `chunk` bytes (whole when omitted).
export function match (m: Matcher, bytes: Uint8Array, options: { type?: FileType, chunk?: number, ancestry?: FileType[] } = {}): string[] {
  const s = m.begin(options.type ?? 'unknown', bytes.length, options.ancestry ?? [])
  const step = options.chunk ?? Math.max(1, bytes.length)
  for (let at = 0; at < bytes.length; at += step) s.push(bytes.subarray(at, at + step))
  const names = s.end()
  if (names.length === 0 && s.needsBytes) names.push(...s.ext(bytes))
  return names
}

/// Bytes from hex, with `.` as a filler byte (0x2e) for readability: hex('..deadbeef..').
export function hex (text: string): Buffer {
  return Buffer.from(text.replace(/\.\./g, '2e'), 'hex')
}

function octal (n: number, width: number): string { return n.toString(8).padStart(width - 1, '0') + '\0' }

/// A ustar archive of regular files.
export function tar (files: Record<string, string | Uint8Array>): Buffer {
  const parts: Buffer[] = []
  for (const [name, content] of Object.entries(files)) {
    const data = typeof content === 'string' ? Buffer.from(content) : Buffer.from(content)
    const h = Buffer.alloc(512)
    h.write(name, 0, 'latin1')
    h.write(octal(0o644, 8), 100, 'latin1')
    h.write(octal(0, 8), 108, 'latin1')
    h.write(octal(0, 8), 116, 'latin1')
    h.write(octal(data.length, 12), 124, 'latin1')
    h.write(octal(0, 12), 136, 'latin1')
    h.write('        ', 148, 'latin1')
    h.write('0', 156, 'latin1')
    h.write('ustar\0' + '00', 257, 'latin1')
    let sum = 0
    for (const b of h) sum += b
    h.write(octal(sum, 7) + ' ', 148, 'latin1')
    parts.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512))
  }
  parts.push(Buffer.alloc(1024))
  return Buffer.concat(parts)
}

/// A .cvd (tar.gz payload) or .cld (plain tar payload) with a correct header MD5 unless told otherwise.
export function cvd (files: Record<string, string | Uint8Array>, options: { cld?: boolean, badMd5?: boolean, version?: number } = {}): Buffer {
  const payload = options.cld === true ? tar(files) : gzipSync(tar(files))
  const md5 = options.badMd5 === true ? '0'.repeat(32) : createHash('md5').update(payload).digest('hex')
  const header = `ClamAV-VDB:27 Nov 2026 12-00 +0000:${options.version ?? 27000}:${Object.keys(files).length}:90:${md5}:nosig:scanwall-test:1795000000`
  return Buffer.concat([Buffer.from(header.padEnd(512, ' '), 'latin1'), payload])
}
