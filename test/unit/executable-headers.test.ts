/// Executable headers (src/engine/executable) read against binutils, the reference every packer
/// author and ClamAV signature writer checks with: section addresses and file offsets from readelf
/// and objdump, entry points from their headers, on real binaries of this machine and ClamAV's test
/// files; lying headers give a reason, never an exception.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { readElf } from '../../src/engine/executable/elf.js'
import { readPe } from '../../src/engine/executable/pe.js'
import { readMachO } from '../../src/engine/executable/macho.js'
import { readExecutable } from '../../src/engine/executable/read.js'

const testfiles = '/usr/share/clamav-testfiles'
const tool = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' })

describe('executable headers', () => {
  it('reads an ELF binary as readelf does (entry, section addresses and offsets)', () => {
    const path = '/usr/bin/ls'
    const info = readElf(readFileSync(path))
    assert.ok(typeof info !== 'string', String(info))
    const entry = /Entry point address:\s+0x([0-9a-f]+)/.exec(tool('readelf', '-h', path))
    assert.equal(info.entryAddress, parseInt(entry![1]!, 16))
    const listed = [...tool('readelf', '-S', '-W', path).matchAll(/^\s+\[\s*\d+\]\s+\S*\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)/gm)]
    assert.equal(info.sections.length, listed.length)
    listed.forEach((m, i) => {
      assert.equal(info.sections[i]!.virtualAddress, parseInt(m[1]!, 16), `section ${i} address`)
      assert.equal(info.sections[i]!.rawOffset, parseInt(m[2]!, 16), `section ${i} offset`)
      assert.equal(info.sections[i]!.virtualSize, parseInt(m[3]!, 16), `section ${i} size`)
    })
    // The entry point's bytes are where the loader puts them: the LOAD segment holding it.
    const load = [...tool('readelf', '-l', '-W', path).matchAll(/^\s+LOAD\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+\S+\s+0x([0-9a-f]+)/gm)]
      .map(m => ({ offset: parseInt(m[1]!, 16), vaddr: parseInt(m[2]!, 16), size: parseInt(m[3]!, 16) }))
      .find(s => info.entryAddress >= s.vaddr && info.entryAddress < s.vaddr + s.size)
    assert.ok(load !== undefined)
    assert.equal(info.entryPoint, load.offset + info.entryAddress - load.vaddr)
  })

  for (const name of ['clam.exe', 'clam-upx.exe', 'clam-aspack.exe', 'clam-petite.exe']) {
    it(`reads ${name} as objdump does (sections, entry address)`, () => {
      const path = `${testfiles}/${name}`
      const info = readPe(readFileSync(path))
      assert.ok(typeof info !== 'string', String(info))
      const start = /start address 0x([0-9a-f]+)/.exec(tool('objdump', '-f', path))
      assert.equal(info.imageBase + info.entryAddress, parseInt(start![1]!, 16))
      // Rows are `Idx Name Size VMA LMA File-off Algn`; packers leave names empty, so read from the right.
      const listed = tool('objdump', '-h', path).split('\n').filter(l => /^\s+\d+\s/.test(l)).map(l => l.trim().split(/\s+/))
      assert.equal(info.sections.length, listed.length)
      listed.forEach((f, i) => {
        assert.equal(info.sections[i]!.name, f.length === 7 ? f[1] : '')
        assert.equal(info.imageBase + info.sections[i]!.virtualAddress, parseInt(f[f.length - 4]!, 16))
      })
    })
  }

  it('maps a PE entry point to the file offset of its section', () => {
    const info = readPe(readFileSync(`${testfiles}/clam.exe`))
    assert.ok(typeof info !== 'string')
    const holder = info.sections.find(s => info.entryAddress >= s.virtualAddress && info.entryAddress < s.virtualAddress + s.rawSize)
    assert.ok(holder !== undefined)
    assert.equal(info.entryPoint, holder.rawOffset + info.entryAddress - holder.virtualAddress)
  })

  it('gives a reason for lying headers instead of throwing', () => {
    const pe = new Uint8Array(readFileSync(`${testfiles}/clam.exe`))
    const peOffset = new DataView(pe.buffer).getUint32(0x3c, true)
    const badCount = pe.slice(); new DataView(badCount.buffer).setUint16(peOffset + 6, 0xffff, true)
    assert.equal(typeof readPe(badCount), 'string')
    const badOffset = pe.slice(); new DataView(badOffset.buffer).setUint32(0x3c, 0x7fffffff, true)
    assert.equal(typeof readPe(badOffset), 'string')
    const elf = new Uint8Array(readFileSync('/usr/bin/ls'))
    const badTable = elf.slice(); new DataView(badTable.buffer).setBigUint64(0x28, 0xffffffffn, true)
    assert.equal(typeof readElf(badTable), 'string')
    assert.equal(typeof readMachO(new Uint8Array([0xcf, 0xfa, 0xed, 0xfe, 1, 2, 3])), 'string')
    for (let cut = 0; cut < 600; cut += 7) {
      assert.doesNotThrow(() => readExecutable(pe.subarray(0, cut)))
      assert.doesNotThrow(() => readExecutable(elf.subarray(0, cut)))
    }
  })

  it('reads a thin 64-bit Mach-O built here (LC_SEGMENT_64 sections, LC_MAIN entry)', () => {
    const bytes = machO64({ entryOffset: 0x1000, sectionOffset: 0x1000, sectionSize: 0x20, address: 0x100001000 })
    const info = readMachO(bytes)
    assert.ok(typeof info !== 'string', String(info))
    assert.equal(info.entryPoint, 0x1000)
    assert.equal(info.sections.length, 1)
    assert.equal(info.sections[0]!.rawOffset, 0x1000)
    assert.equal(info.sections[0]!.virtualAddress, 0x100001000)
  })
})

/// A minimal Mach-O 64 (little-endian x86-64) with one __TEXT segment holding one __text section and
/// an LC_MAIN command, laid out per Apple's <mach-o/loader.h>.
function machO64 (o: { entryOffset: number, sectionOffset: number, sectionSize: number, address: number }): Uint8Array {
  const bytes = new Uint8Array(o.sectionOffset + o.sectionSize)
  const v = new DataView(bytes.buffer)
  const segmentSize = 72 + 80
  v.setUint32(0, 0xfeedfacf, true); v.setUint32(4, 0x01000007, true); v.setUint32(12, 2, true)
  v.setUint32(16, 2, true); v.setUint32(20, segmentSize + 24, true)
  let at = 32
  v.setUint32(at, 0x19, true); v.setUint32(at + 4, segmentSize, true)
  v.setBigUint64(at + 24, BigInt(o.address - o.sectionOffset), true); v.setBigUint64(at + 32, BigInt(bytes.length), true)
  v.setBigUint64(at + 40, 0n, true); v.setBigUint64(at + 48, BigInt(bytes.length), true); v.setUint32(at + 64, 1, true)
  const s = at + 72
  v.setBigUint64(s + 32, BigInt(o.address), true); v.setBigUint64(s + 40, BigInt(o.sectionSize), true); v.setUint32(s + 48, o.sectionOffset, true)
  at += segmentSize
  v.setUint32(at, 0x80000028, true); v.setUint32(at + 4, 24, true); v.setBigUint64(at + 8, BigInt(o.entryOffset), true)
  return bytes
}
