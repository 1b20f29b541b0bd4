/// Type detection from content (issue #4 item 1): every container the round-trip builders make is
/// recognised from its bytes alone, whatever it is called; text that merely mentions a format is not.
import assert from 'node:assert/strict'
import { detect, detectType } from '../../../src/engine/filetype.js'
import { MemorySource } from '../../../src/engine/source.js'
import { builders } from '../../helpers/containers.js'
import { eicar } from '../../helpers/eicar.js'

const expected: Readonly<Record<string, string>> = {
  'zip (deflate)': 'zip',
  'zip (stored)': 'zip',
  'zip (bzip2)': 'zip',
  'zip (deflate64)': 'zip',
  'zip (lzma)': 'zip',
  'tar (ustar)': 'tar',
  'tar (pax)': 'tar',
  'tar (gnu)': 'tar',
  'cpio (newc)': 'cpio',
  'cpio (odc)': 'cpio',
  'cpio (bin)': 'cpio',
  ar: 'ar',
  '7z': '7z',
  arj: 'arj',
  cab: 'cab',
  lzh: 'lzh',
  iso9660: 'iso9660',
  gzip: 'gzip',
  zlib: 'zlib',
  bzip2: 'bzip2',
  xz: 'xz',
  lzma: 'lzma',
  zstd: 'zstd',
  lzip: 'lzip',
  szdd: 'szdd',
  'mail (base64)': 'mail',
  'mail (quoted-printable)': 'mail',
  'mbox (uuencode)': 'mbox',
  yEnc: 'yenc',
  'OLE2 (Ole10Native)': 'ole2',
  'PDF (ASCIIHex+Flate)': 'pdf',
  'RTF (objdata Package)': 'rtf',
  'HTML (data: URI)': 'html',
  TNEF: 'tnef',
  lzop: 'lzop',
  'lzop (LZO1X-999)': 'lzop',
  'lzh (-lh1-, jLHA)': 'lzh',
  'iso9660 (no Joliet)': 'iso9660',
  'iso9660 (Joliet hides the file)': 'iso9660',
  'ALZ (stored)': 'alz',
  'ALZ (deflate)': 'alz',
  'ALZ (bzip2)': 'alz',
  'BinHex 4.0 (Convert::BinHex)': 'binhex',
  'OneNote (revision store)': 'onenote',
  'OneNote (web export)': 'onenote',
}

describe('file type detection from content', function () {
  this.timeout(30_000)
  for (const builder of builders) {
    it(`recognises ${builder.format} as ${expected[builder.format] ?? '?'}`, async () => {
      const bytes = builder.build({ name: 'eicar.com', bytes: eicar })
      assert.equal(await detectType(new MemorySource(bytes)), expected[builder.format])
    })
  }

  it('does not take plain text or random bytes for a container', () => {
    assert.equal(detect(Buffer.from('The zip file and the tar ball are attached.\nSee you.\n')), 'text')
    assert.equal(detect(Buffer.from([0x00, 0x01, 0x02, 0x03, 0xfe, 0xfd, 0x10, 0x11])), 'unknown')
    assert.equal(detect(Buffer.alloc(0)), 'unknown')
  })

  it('finds %PDF- only whole within the first 1 KiB, and a v7 tar header by its checksum, leading spaces or not', () => {
    const binary = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 131 + 7) % 256))
    const pdfAt = (at: number): Buffer => { const b = binary(4096); b.write('%PDF-', at, 'latin1'); return b }
    assert.equal(detect(pdfAt(300)), 'pdf')
    assert.equal(detect(pdfAt(1019)), 'pdf', 'ends at byte 1024')
    assert.equal(detect(pdfAt(1020)), 'unknown', 'crosses byte 1024')
    const tar = (field: (sum: number) => string): Buffer => {
      const b = binary(1024)
      b[0] = 0x61
      b.fill(0x20, 148, 156)
      let sum = 0
      for (let i = 0; i < 512; i++) sum += b[i] as number
      b.write(field(sum).padEnd(8, '\0'), 148, 'latin1')
      return b
    }
    assert.equal(detect(tar(sum => sum.toString(8) + '\0')), 'tar')
    assert.equal(detect(tar(sum => '  ' + sum.toString(8))), 'tar', 'leading spaces')
    assert.equal(detect(tar(sum => (sum + 1).toString(8))), 'unknown', 'a checksum that does not add up')
  })

  it('calls text what has control bytes in fewer than 1 % of its head, and tells text kinds by their marks', () => {
    const prose = Buffer.from('plain words on a line, tab\tand escape \x1b are text\r\n'.repeat(80).slice(0, 4000), 'latin1')
    const sprinkled = (n: number): Buffer => { const b = Buffer.from(prose); for (let i = 0; i < n; i++) b[100 + i * 37] = 0x01; return b }
    assert.equal(detect(prose), 'text')
    assert.equal(detect(sprinkled(39)), 'text', '39 control bytes in 4000: under 1 %')
    assert.equal(detect(sprinkled(40)), 'unknown', '40 in 4000: 1 %')
    assert.equal(detect(Buffer.from('x'.repeat(5000) + '\x01')), 'text', 'past the 4 KiB head')
    assert.equal(detect(Buffer.from('see <p>the begin 644 notes</p>')), 'html')
    assert.equal(detect(Buffer.from('a < b, and begin later\nbegin 644 file.bin\nM\nend\n')), 'uuencode')
    assert.equal(detect(Buffer.from('no markup here, only 1 < 2 and begin 644 mid-line\n')), 'text')
    assert.equal(detect(Buffer.from('=ybegin line=128 size=5 name=a.bin\n')), 'yenc')
  })
})
