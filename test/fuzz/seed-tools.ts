/// Seeds the shared container builders (test/helpers/containers.ts) do not make: archives of two
/// members (EICAR first, then a filler), so duplicating and reordering members and damaging the
/// member after EICAR mean something; and the formats no builder covers (plain uuencode, BinHex,
/// SIS, a 7-Zip self-extracting PE).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { crc32 } from 'node:zlib'
import { join } from 'node:path'
import { eicar } from '../helpers/eicar.js'

/// 3 KiB of lines that compress somewhat, different in every line (a second member to damage).
export const filler = Buffer.from(Array.from({ length: 120 }, (_, i) => `filler line ${i} ${(i * 2654435761 >>> 0).toString(36)}\n`).join(''), 'latin1')

/// Runs a tool in a directory holding eicar.com and filler.bin; returns the bytes of `out`.
export function withTool (out: string, cmd: string, args: string[]): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-fuzz-seed-'))
  try {
    writeFileSync(join(dir, 'eicar.com'), eicar)
    writeFileSync(join(dir, 'filler.bin'), filler)
    execFileSync(cmd, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
    return readFileSync(join(dir, out))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const both = ['eicar.com', 'filler.bin']

export const twoMember = {
  zipStored: () => withTool('o.zip', 'zip', ['-q', '-0', 'o.zip', ...both]),
  zipDeflate: () => withTool('o.zip', 'zip', ['-q', 'o.zip', ...both]),
  tar: () => withTool('o.tar', 'tar', ['--format=ustar', '-cf', 'o.tar', ...both]),
  cpio: (format: 'newc' | 'odc' | 'bin') => withTool('o.cpio', 'sh', ['-c', `printf '%s\\n' ${both.join(' ')} | cpio -o --quiet -H ${format} > o.cpio`]),
  ar: () => withTool('o.a', 'ar', ['rc', 'o.a', ...both]),
  sevenzStored: () => withTool('o.7z', '7z', ['a', '-bd', '-mx0', 'o.7z', ...both]),
  arjStored: () => withTool('o.arj', 'arj', ['a', '-y', '-i', '-m0', 'o.arj', ...both]),
  cabStored: () => withTool('o.cab', 'gcab', ['-c', 'o.cab', ...both]),
  lzh: () => withTool('o.lzh', 'lha', ['a', 'o.lzh', ...both]),
  iso: () => withTool('o.iso', 'sh', ['-c', `mkdir root && cp ${both.join(' ')} root/ && genisoimage -quiet -J -R -o o.iso root`]),
  /// A 7-Zip console self-extractor (a real PE) around a stored 7z archive.
  sfx: () => withTool('o.exe', '7z', ['a', '-bd', '-mx0', '-sfx/usr/lib/p7zip/7zCon.sfx', 'o.exe', ...both]),
}

/// A MIME message: the EICAR attachment, then a filler attachment, both in one transfer encoding.
export function twoPartMail (encoding: 'base64' | 'quoted-printable'): Buffer {
  const b64 = (b: Buffer): string => b.toString('base64').replace(/.{76}/g, '$&\r\n')
  // EICAR and the filler are printable ASCII without '=', so quoted-printable only wraps lines.
  const qp = (b: Buffer): string => b.toString('latin1').replace(/\n/g, '=0A').replace(/.{75}/g, '$&=\r\n')
  const part = (name: string, bytes: Buffer): string[] => ['--XYZ', `Content-Type: application/octet-stream; name="${name}"`, `Content-Transfer-Encoding: ${encoding}`, `Content-Disposition: attachment; filename="${name}"`, '', encoding === 'base64' ? b64(bytes) : qp(bytes)]
  return Buffer.from([
    'From: a@example.test', 'To: b@example.test', 'Subject: two parts', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="XYZ"', '', ...part('eicar.com', eicar), ...part('filler.bin', filler), '--XYZ--', '',
  ].join('\r\n'), 'latin1')
}

/// uuencoded EICAR, then a uuencoded filler.
export function uuencoded (): Buffer {
  return Buffer.concat([execFileSync('uuencode', ['eicar.com'], { input: eicar }), execFileSync('uuencode', ['filler.bin'], { input: filler })])
}

/// An mbox of two messages: uuencoded EICAR, then a uuencoded filler.
export function twoMessageMbox (): Buffer {
  const message = (name: string, bytes: Buffer): Buffer => Buffer.concat([Buffer.from(`From a@example.test Thu Jan  1 00:00:00 2026\nFrom: a@example.test\nSubject: ${name}\n\n`), execFileSync('uuencode', [name], { input: bytes }), Buffer.from('\n')])
  return Buffer.concat([message('eicar.com', eicar), message('filler.bin', filler)])
}

const binhexAlphabet = '!"#$%&\'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr'

/// BinHex 4.0 of a data fork (RLE escapes 0x90; CRCs left 0, which readers such as ours ignore).
export function binhex (name: string, data: Buffer): Buffer {
  const head = Buffer.alloc(1 + name.length + 1 + 4 + 4 + 2 + 4 + 4 + 2)
  head[0] = name.length
  head.write(name, 1, 'latin1')
  let at = 1 + name.length + 1
  head.write('TEXTttxt', at, 'latin1')
  at += 10
  head.writeUInt32BE(data.length, at)
  const raw = Buffer.concat([head, data, Buffer.alloc(2), Buffer.alloc(2)])
  const escaped: number[] = []
  for (const b of raw) escaped.push(...(b === 0x90 ? [0x90, 0] : [b]))
  let six = ''
  for (let i = 0; i < escaped.length; i += 3) {
    const [a = 0, b = 0, c = 0] = escaped.slice(i, i + 3)
    const n = (a << 16) | (b << 8) | c
    const chars = i + 1 >= escaped.length ? 2 : i + 2 >= escaped.length ? 3 : 4
    for (let k = 0; k < chars; k++) six += binhexAlphabet[(n >> (18 - 6 * k)) & 63]
  }
  return Buffer.from(`(This file must be converted with BinHex 4.0)\r\n:${six.replace(/.{64}/g, '$&\r\n')}:\r\n`, 'latin1')
}

/// A SIS file (EPOC release 3 layout, options NoCompress): one language, one file record, the data
/// stored; the fields the handler reads sit where sis.c expects them.
export function sis (data: Buffer): Buffer {
  const name = Buffer.from('!:\\system\\eicar.com', 'latin1')
  const header = Buffer.alloc(0x44)
  header.writeUInt32LE(0x10000419, 8) // UID3: a SIS file
  header.writeUInt16LE(1, 18) // languages
  header.writeUInt16LE(1, 20) // files
  header.writeUInt16LE(0x0008, 36) // options: NoCompress
  const record = Buffer.alloc(28 + 12)
  const recordAt = header.length
  const nameAt = recordAt + record.length
  const dataAt = nameAt + name.length
  header.writeUInt32LE(recordAt, 52)
  record.writeUInt32LE(0, 0) // simple file record
  record.writeUInt32LE(name.length, 20)
  record.writeUInt32LE(nameAt, 24)
  record.writeUInt32LE(data.length, 28)
  record.writeUInt32LE(dataAt, 32)
  return Buffer.concat([header, record, name, data, filler.subarray(0, 256)])
}

/// A RAR 4 archive of stored members (no tool here writes RAR): marker, main header, one file header
/// (method 0x30, store) per member, end block; header CRCs are the low 16 bits of CRC32, as 7-Zip checks.
export function rarStored (members: ReadonlyArray<readonly [string, Buffer]>): Buffer {
  const block = (type: number, flags: number, body: Buffer): Buffer => {
    const head = Buffer.alloc(7)
    head[2] = type
    head.writeUInt16LE(flags, 3)
    head.writeUInt16LE(7 + body.length, 5)
    const crc = crc32(Buffer.concat([head.subarray(2), body])) & 0xffff
    head.writeUInt16LE(crc, 0)
    return Buffer.concat([head, body])
  }
  const files = members.map(([name, data]) => {
    const body = Buffer.alloc(25 + name.length)
    body.writeUInt32LE(data.length, 0) // packed size
    body.writeUInt32LE(data.length, 4) // unpacked size
    body[8] = 3 // host OS: Unix
    body.writeUInt32LE(crc32(data), 9)
    body.writeUInt32LE(0x5c210000, 13) // DOS time: 2026-01-01
    body[17] = 20 // version needed
    body[18] = 0x30 // method: store
    body.writeUInt16LE(name.length, 19)
    body.writeUInt32LE(0o100644 << 0, 21)
    body.write(name, 25, 'latin1')
    return Buffer.concat([block(0x74, 0x8000, body), data])
  })
  return Buffer.concat([Buffer.from('Rar!\x1a\x07\x00', 'latin1'), block(0x73, 0, Buffer.alloc(6)), ...files, block(0x7b, 0x4000, Buffer.alloc(0))])
}

/// A CHM (ITSF 3) whose files all live in the uncompressed section 0 (no tool here writes CHM, and
/// LZX would need an encoder): header, header section 0, the ITSP directory with one PMGL listing
/// chunk, then the content: the NameList that names section 0, EICAR, the filler.
export function chmUncompressed (members: ReadonlyArray<readonly [string, Buffer]>): Buffer {
  const encint = (n: number): Buffer => {
    const bytes = [n & 0x7f]
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) bytes.unshift(0x80 | (v & 0x7f))
    return Buffer.from(bytes)
  }
  const sectionName = Buffer.from('Uncompressed', 'utf16le')
  const nameList = Buffer.alloc(4 + 2 + sectionName.length + 2)
  nameList.writeUInt16LE(nameList.length / 2, 0)
  nameList.writeUInt16LE(1, 2)
  nameList.writeUInt16LE(sectionName.length / 2, 4)
  sectionName.copy(nameList, 6)
  // The NameList first, as HTML Help Workshop lays out section 0: system files, then the pages.
  const files: Array<readonly [string, Buffer]> = [['::DataSpace/NameList', nameList], ...members.map(([n, d]) => [`/${n}`, d] as const)]
  let offset = 0
  const entries = Buffer.concat(files.map(([name, data]) => {
    const entry = Buffer.concat([encint(name.length), Buffer.from(name, 'latin1'), encint(0), encint(offset), encint(data.length)])
    offset += data.length
    return entry
  }))
  const chunkSize = 0x1000
  const chunk = Buffer.alloc(chunkSize)
  chunk.write('PMGL', 0, 'latin1')
  chunk.writeUInt32LE(chunkSize - 20 - entries.length, 4) // free space + quickref after the entries
  chunk.writeInt32LE(-1, 12)
  chunk.writeInt32LE(-1, 16)
  entries.copy(chunk, 20)
  chunk.writeUInt16LE(files.length, chunkSize - 2)
  const itsp = Buffer.alloc(0x54)
  itsp.write('ITSP', 0, 'latin1')
  for (const [at, v] of [[4, 1], [8, 0x54], [12, 0x0a], [16, chunkSize], [20, 2], [24, 1], [28, -1], [32, 0], [36, 0], [40, -1], [44, 1], [48, 0x409], [68, 0x54], [72, -1], [76, -1], [80, -1]] as const) itsp.writeInt32LE(v, at)
  const head = Buffer.alloc(0x60)
  const section0At = 0x60
  const section1At = section0At + 0x18
  const contentAt = section1At + itsp.length + chunkSize
  const total = contentAt + offset
  head.write('ITSF', 0, 'latin1')
  head.writeUInt32LE(3, 4)
  head.writeUInt32LE(0x60, 8)
  head.writeUInt32LE(1, 12)
  head.writeBigUInt64LE(BigInt(section0At), 56)
  head.writeBigUInt64LE(0x18n, 64)
  head.writeBigUInt64LE(BigInt(section1At), 72)
  head.writeBigUInt64LE(BigInt(itsp.length + chunkSize), 80)
  head.writeBigUInt64LE(BigInt(contentAt), 88)
  const section0 = Buffer.alloc(0x18)
  section0.writeUInt32LE(0x1fe, 0)
  section0.writeBigUInt64LE(BigInt(total), 8)
  return Buffer.concat([head, section0, itsp, chunk, ...files.map(([, d]) => d)])
}
