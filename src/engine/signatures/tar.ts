/// A minimal ustar reader and writer for .cvd/.cld payloads: regular files only, in memory. Written by hand
/// because signature containers are small, flat archives and this avoids a dependency for 30 lines.

export interface TarEntry { readonly name: string, readonly data: Uint8Array }

function field (block: Uint8Array, start: number, length: number): string {
  const raw = block.subarray(start, start + length)
  const end = raw.indexOf(0)
  return Buffer.from(raw.subarray(0, end < 0 ? raw.length : end)).toString('latin1')
}

/// Yields the regular files of a tar archive; throws a reason string's Error on a truncated archive.
export function * readTar (tar: Uint8Array): Iterable<TarEntry> {
  let at = 0
  while (at + 512 <= tar.length) {
    const header = tar.subarray(at, at + 512)
    if (header.every(b => b === 0)) return
    const name = field(header, 0, 100)
    const prefix = field(header, 345, 155)
    const sizeText = field(header, 124, 12).trim()
    const size = sizeText === '' ? 0 : parseInt(sizeText, 8)
    if (Number.isNaN(size)) throw new Error(`tar: bad size field for '${name}'`)
    const type = String.fromCharCode(header[156] ?? 0)
    at += 512
    if (at + size > tar.length) throw new Error(`tar: '${name}' is truncated`)
    if (type === '0' || type === '\0') yield { name: prefix === '' ? name : `${prefix}/${name}`, data: tar.subarray(at, at + size) }
    at += Math.ceil(size / 512) * 512
  }
}

function octal (value: number, length: number): string { return value.toString(8).padStart(length - 1, '0') + '\0' }

/// A ustar archive of regular files (names up to 100 bytes), as a .cld rebuilt from cdiffs holds.
export function writeTar (entries: readonly TarEntry[]): Uint8Array {
  const blocks: Uint8Array[] = []
  for (const e of entries) {
    const header = Buffer.alloc(512)
    header.write(e.name.slice(0, 100), 0, 'latin1')
    header.write(octal(0o644, 8), 100, 'latin1')
    header.write(octal(0, 8), 108, 'latin1')
    header.write(octal(0, 8), 116, 'latin1')
    header.write(octal(e.data.length, 12), 124, 'latin1')
    header.write(octal(0, 12), 136, 'latin1')
    header.write('        ', 148, 'latin1')
    header[156] = 0x30
    header.write('ustar\0' + '00', 257, 'latin1')
    let sum = 0
    for (const b of header) sum += b
    header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1')
    blocks.push(header, e.data, Buffer.alloc((512 - e.data.length % 512) % 512))
  }
  blocks.push(Buffer.alloc(1024))
  return Buffer.concat(blocks)
}
