/// UPX unpacking, on programs packed here (test/helpers/upx-writer.ts: Debian bookworm has no `upx`)
/// with each method (NRV2B, NRV2D, NRV2E, LZMA) as PE32, PE32+, ELF32 and ELF64, and on clamav-testfiles'
/// clam-upx.exe, packed by the real UPX 3.01. The only signature is the MD5 of the original image, so
/// a detection proves the image came back byte for byte; the packed file itself never matches it.
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { hashOnlyEngine, scanBytes } from '../../helpers/engine.js'
import { ctoFilter, nrvEncode, upxElf, upxPe, type NrvWriterMethod, type UpxWriterMethod } from '../../helpers/upx-writer.js'
import { execFileSync } from 'node:child_process'
import { nrvDecompress } from '../../../src/engine/formats/unpack/nrv.js'
import { lzmaDecodeRaw } from '../../../src/engine/formats/unpack/lzma-raw.js'
import { unpackUpxPe } from '../../../src/engine/formats/unpack/upx.js'
import { unfilter } from '../../../src/engine/formats/unpack/upx-filter.js'
import { readExecutable } from '../../../src/engine/executable/read.js'

/// Code-like bytes with repeats near and far (matches of every length class and offsets past the
/// 0x500/0xd00 thresholds) and a CALL whose target lies inside the buffer, for the filter.
function program (seed: number): Uint8Array {
  const out = new Uint8Array(0x3000)
  let x = seed
  const next = (): number => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x >>> 24 }
  for (let i = 0; i < out.length; i++) out[i] = i % 97 < 40 ? next() : i > 0x1800 ? out[i - 0x1400]! : out[i - 40]!
  out.set([0xe8, 0x10, 0x01, 0x00, 0x00], 0x200) // call +0x110
  return out
}

const methods: readonly NrvWriterMethod[] = ['nrv2b', 'nrv2d', 'nrv2e']

describe('UPX unpacker', function () {
  this.timeout(60_000)

  for (const method of methods) {
    it(`${method}: the decoder inverts the encoder on random and repetitive data`, () => {
      for (const seed of [1, 2, 3]) {
        const data = program(seed)
        assert.deepEqual(nrvDecompress(method, nrvEncode(method, data), 0, data.length).output, data)
      }
    })

    for (const [label, build] of [
      ['PE32', (p: Uint8Array) => upxPe(p, method)],
      ['PE32+', (p: Uint8Array) => upxPe(p, method, { wide: true })],
      ['ELF32', (p: Uint8Array) => upxElf(p, method)],
      ['ELF64', (p: Uint8Array) => upxElf(p, method, { wide: true })],
    ] as const) {
      it(`${method} ${label}: the engine finds the original image by its hash`, async () => {
        const image = program(7)
        const packed = build(image)
        assert.ok(packed.length < image.length, 'the image must have been compressed')
        const engine = await hashOnlyEngine(image, 'Test.UPX.Image')
        const verdict = await scanBytes(engine, packed, `packed-${label}`)
        assert.equal(verdict.status, 'infected', JSON.stringify(verdict.findings))
        assert.deepEqual(verdict.findings[0]?.path, [`packed-${label}`, `upx-${method}`])
      })
    }
  }

  for (const [label, build] of [
    ['PE32', (p: Uint8Array) => upxPe(p, 'lzma')],
    ['PE32+', (p: Uint8Array) => upxPe(p, 'lzma', { wide: true })],
    ['ELF32', (p: Uint8Array) => upxElf(p, 'lzma')],
    ['ELF64', (p: Uint8Array) => upxElf(p, 'lzma', { wide: true })],
  ] as const) {
    it(`lzma ${label}: the engine finds the original image by its hash`, async () => {
      const image = program(13)
      const packed = build(image)
      assert.ok(packed.length < image.length, 'the image must have been compressed')
      const engine = await hashOnlyEngine(image, 'Test.UPX.LZMA')
      const verdict = await scanBytes(engine, packed, `lzma-${label}`)
      assert.equal(verdict.status, 'infected', JSON.stringify(verdict.findings))
      assert.deepEqual(verdict.findings[0]?.path, [`lzma-${label}`, 'upx-lzma'])
    })
  }

  it('lzma-raw decodes xz-utils raw LZMA1 streams for other lc/lp/pb (end marker included)', () => {
    const data = Buffer.concat([program(19), Buffer.alloc(20_000, 0x41), program(23)])
    for (const [lc, lp, pb] of [[0, 2, 0], [4, 0, 4], [1, 3, 1]] as const) {
      const raw = execFileSync('xz', ['--format=raw', `--lzma1=preset=6,lc=${lc},lp=${lp},pb=${pb}`, '-c'], { input: data })
      assert.deepEqual(Buffer.from(lzmaDecodeRaw(raw, 0, raw.length, { lc, lp, pb }, data.length)), data, `lc=${lc} lp=${lp} pb=${pb}`)
    }
    assert.throws(() => lzmaDecodeRaw(Uint8Array.of(0, 0, 0), 0, 3, { lc: 3, lp: 0, pb: 2 }, 10), /ends early/)
  })

  it('lzma: a damaged stream or header gives a reason, never an exception', () => {
    const image = program(17)
    const packed = upxPe(image, 'lzma' satisfies UpxWriterMethod)
    for (const [at, value] of [[0x400, 0xff], [0x401, 0x99], [0x420, 0x00], [0x480, 0xff]] as const) {
      const bad = Buffer.from(packed)
      bad[at] = value
      const result = unpackUpxPe(bad, readExecutable(bad)!, 1 << 20)
      if (typeof result !== 'string') assert.notDeepEqual(result.bytes, image)
    }
    const cut = packed.subarray(0, 0x500)
    assert.equal(typeof unpackUpxPe(cut, readExecutable(cut)!, 1 << 20), 'string')
  })

  it('undoes the call-trick filter 0x26 (calls stored big-endian behind a marker byte)', async () => {
    const image = program(9)
    const filtered = ctoFilter(image, 0x7d)
    assert.notDeepEqual(filtered, image)
    const copy = Uint8Array.from(filtered)
    unfilter(copy, 0x26, 0x7d)
    assert.deepEqual(copy, image)
    const engine = await hashOnlyEngine(image, 'Test.UPX.Filtered')
    assert.equal((await scanBytes(engine, upxPe(image, 'nrv2e', { filter: 0x26, cto: 0x7d }), 'filtered.exe')).status, 'infected')
  })

  it('damaged streams and lying headers give a reason, not an exception or a child', async () => {
    const image = program(11)
    const packed = upxPe(image, 'nrv2b')
    for (const at of [0x400, 0x404, 0x410, 0x3f0, 0x3f4]) {
      const bad = Buffer.from(packed)
      bad.writeUInt32LE(0xfffffff0, at)
      const result = unpackUpxPe(bad, readExecutable(bad)!, 1 << 20)
      if (typeof result !== 'string') assert.notDeepEqual(result.bytes, image)
    }
    const engine = await hashOnlyEngine(image, 'Test.UPX.Image')
    assert.equal((await scanBytes(engine, packed.subarray(0, 0x500), 'truncated.exe')).status, 'clean')
  })

  it('unpacks clamav-testfiles clam-upx.exe (UPX 3.01, NRV2B, filter 0x26) to the program with clam.exe inside', function () {
    const path = '/usr/share/clamav-testfiles/clam-upx.exe'
    assert.ok(existsSync(path), 'clamav-testfiles missing (test/setup-peers.sh)')
    const bytes = readFileSync(path)
    const result = unpackUpxPe(bytes, readExecutable(bytes)!, 1 << 20)
    assert.ok(typeof result !== 'string', String(result))
    const clam = readFileSync('/usr/share/clamav-testfiles/clam.exe')
    assert.ok(Buffer.from(result.bytes).indexOf(clam) !== -1, 'clam.exe not found byte for byte in the unpacked image')
  })
})
