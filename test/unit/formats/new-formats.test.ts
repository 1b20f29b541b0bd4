/// The decoders and parsers of issue #11 item 3 on hostile and edge input: damaged data must end in
/// a clear error or a Heuristics.Broken finding, never a hang, an overrun or a silent clean.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { lzo1xDecompress } from '../../../src/engine/formats/lzo1x.js'
import { decodeLh1 } from '../../../src/engine/formats/lzh-lh1.js'
import { stripComments } from '../../../src/engine/formats/mail.js'
import { eicar } from '../../helpers/eicar.js'
import { hashOnlyEngine, scanBytes } from '../../helpers/engine.js'
import { alz, lzhWithJlha, lzop, oneNote } from '../../helpers/format-writers.js'
import type { Engine } from '../../../src/engine/engine.js'

describe('issue #11 formats on hostile input', function () {
  this.timeout(60_000)
  let engine: Engine
  before(async () => { engine = await hashOnlyEngine(eicar, 'Test.EICAR.HDB') })

  it('LZO1X refuses a match before the start of the block and output past its size', () => {
    // 0x11 0x00 0x00 alone is an empty stream. A run of 4 literals, then a match 41 bytes back.
    assert.deepEqual(lzo1xDecompress(Uint8Array.from([0x11, 0x00, 0x00]), 0), new Uint8Array(0))
    assert.throws(() => lzo1xDecompress(Uint8Array.from([0x01, 0x61, 0x62, 0x63, 0x64, 0x40, 0x05, 0x11, 0x00, 0x00]), 16), /before the start/)
    // A first byte of 36 means 19 literals: more than the block holds.
    assert.throws(() => lzo1xDecompress(Uint8Array.from([36, ...Buffer.alloc(19, 0x61), 0x11, 0x00, 0x00]), 2), /output overrun/)
    // The same run with a match 1 byte back (a run of 3) decodes.
    assert.deepEqual(Buffer.from(lzo1xDecompress(Uint8Array.from([0x01, 0x61, 0x62, 0x63, 0x64, 0x40, 0x00, 0x11, 0x00, 0x00]), 7)).toString(), 'abcdddd')
    for (let i = 0; i < 200; i++) {
      try { lzo1xDecompress(randomBytes(64), 4096) } catch (err) { assert.match(String(err), /LZO1X/) }
    }
  })

  it('-lh1- on input that runs out throws instead of decoding zeros forever', () => {
    assert.throws(() => decodeLh1(Uint8Array.from([0xff, 0x00]), 1 << 20, () => true), /-lh1- data ends/)
  })

  it('-lh1- decodes what jLHA compressed, byte for byte, across window-sized matches', () => {
    // The round trip's EICAR (68 bytes) does not shrink under -lh1-, so jLHA stores it as -lh0-:
    // this body does (text runs, repeats further back than the 4 KiB window, random stretches).
    const line = (i: number): string => `line ${i}: the quick brown fox ${i % 7 === 0 ? 'jumps' : 'walks'}\n`
    const text = Buffer.from(Array.from({ length: 3000 }, (_, i) => line(i)).join(''))
    const body = Buffer.concat([text, randomBytes(5000), text.subarray(0, 20_000), eicar])
    const lzh = lzhWithJlha({ name: 'a.txt', bytes: body }, 'lh1', 0)
    assert.equal(lzh.subarray(2, 7).toString('latin1'), '-lh1-')
    const pieces: Uint8Array[] = []
    assert.equal(decodeLh1(lzh.subarray((lzh[0] as number) + 2), body.length, piece => { pieces.push(Uint8Array.from(piece)); return true }), true)
    assert.ok(Buffer.concat(pieces).equals(body))
  })

  it('-lh1- stops when the sink says so', () => {
    let pieces = 0
    const big = Buffer.alloc(300_000, 0x41)
    const lzh = lzhWithJlha({ name: 'a.bin', bytes: big }, 'lh1', 0)
    // Level 0 header: size byte + 2, then the data.
    const data = lzh.subarray((lzh[0] as number) + 2)
    assert.equal(decodeLh1(data, big.length, () => { pieces++; return false }), false)
    assert.equal(pieces, 1)
  })

  it('a lzop file cut inside a block is broken, not clean', async () => {
    const whole = lzop({ name: 'x.bin', bytes: Buffer.concat([eicar, randomBytes(200_000)]) }, 1)
    const verdict = await scanBytes(engine, whole.subarray(0, 1000))
    assert.equal(verdict.findings[0]?.name, 'Heuristics.Broken.LZO')
  })

  it('an ALZ member marked encrypted is reported, not extracted', async () => {
    const bytes = alz({ name: 'eicar.com', bytes: eicar }, 0)
    bytes[8 + 11] = (bytes[8 + 11] as number) | 1
    const verdict = await scanBytes(engine, bytes)
    assert.equal(verdict.findings[0]?.name, 'Heuristics.Encrypted.ALZ')
  })

  it('a OneNote FileDataStoreObject longer than the file is broken; one without footer still scanned', async () => {
    const one = oneNote({ name: 'eicar.com', bytes: eicar })
    const lying = Buffer.from(one)
    lying.writeBigUInt64LE(1n << 40n, 1024 + 16)
    assert.equal((await scanBytes(engine, lying)).findings[0]?.name, 'Heuristics.Broken.OneNote')
    const footless = one.subarray(0, one.length - 16)
    const verdict = await scanBytes(engine, footless)
    assert.deepEqual(verdict.findings.map(x => x.name).sort(), ['Heuristics.Broken.OneNote', 'Test.EICAR.HDB'])
  })

  it('RFC 5322 comments are removed from header text, nested and escaped, not inside quotes', () => {
    assert.equal(stripComments('Content-Type(meow)'), 'Content-Type')
    assert.equal(stripComments('Content(a(b)c)-Type'), 'Content-Type')
    assert.equal(stripComments('Content-Type(a\\)b)'), 'Content-Type')
    assert.equal(stripComments('multipart/mixed; boundary="(kept)"'), 'multipart/mixed; boundary="(kept)"')
  })
})
