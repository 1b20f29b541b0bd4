/// VBA macros (what the seed product called MacroTrap): the source of every module of a VBA project
/// in an OLE2 file (Word/Excel 97-2003 directly; OOXML through its vbaProject.bin, which is OLE2),
/// decompressed per MS-OVBA §2.4.1 and located through the project's `dir` stream (§2.3.4.2).
/// A project that has an auto-exec entry point and also calls something dangerous is
/// Heuristics.Macro.Suspicious; the sources are also yielded so the signature engine scans them.
/// Hand-written: no npm library decompresses VBA (olevba and ClamAV's vba_extract.c are the
/// references for the same few pages of the spec).

/// MS-OVBA 2.4.1: a CompressedContainer (0x01, then chunks of up to 4096 decompressed bytes).
export function decompressVba (data: Uint8Array, cap: number): Buffer | undefined {
  if (data[0] !== 0x01) return undefined
  const out: number[] = []
  let at = 1
  while (at + 2 <= data.length && out.length < cap) {
    const header = (data[at] ?? 0) | ((data[at + 1] ?? 0) << 8)
    const size = (header & 0x0fff) + 3 // chunk size including the header
    if (((header >> 12) & 0x7) !== 0b011) return out.length > 0 ? Buffer.from(out) : undefined
    const end = Math.min(data.length, at + size)
    const start = out.length
    at += 2
    if ((header & 0x8000) === 0) { // raw chunk
      for (; at < end; at++) out.push(data[at] ?? 0)
      continue
    }
    while (at < end) {
      const flags = data[at++] ?? 0
      for (let bit = 0; bit < 8 && at < end; bit++) {
        if ((flags & (1 << bit)) === 0) { out.push(data[at++] ?? 0); continue }
        const token = (data[at] ?? 0) | ((data[at + 1] ?? 0) << 8)
        at += 2
        // CopyToken: the split between offset and length bits depends on the position in the chunk.
        const pos = out.length - start
        let bitCount = 4
        while ((1 << bitCount) < pos) bitCount++
        bitCount = Math.max(4, Math.min(12, bitCount))
        const lengthMask = 0xffff >> bitCount
        const offset = (token >> (16 - bitCount)) + 1
        const length = (token & lengthMask) + 3
        const from = out.length - offset
        if (from < 0) return Buffer.from(out)
        for (let k = 0; k < length; k++) out.push(out[from + k] ?? 0)
      }
    }
  }
  return Buffer.from(out.slice(0, cap))
}

export interface VbaModule { readonly name: string, readonly stream: string, readonly offset: number }

/// The modules listed in a decompressed `dir` stream (MS-OVBA 2.3.4.2 records: id u16, size u32).
export function parseDir (dir: Buffer): VbaModule[] {
  const modules: VbaModule[] = []
  let name = ''
  let stream = ''
  let offset = 0
  for (let at = 0; at + 6 <= dir.length;) {
    const id = dir.readUInt16LE(at)
    let size = dir.readUInt32LE(at + 2)
    if (id === 0x0009) size = 6 // PROJECTVERSION: its Size field says 4, six bytes follow (§2.3.4.2.1.11)
    const body = dir.subarray(at + 6, at + 6 + size)
    if (id === 0x0019) name = body.toString('latin1')
    else if (id === 0x001a) stream = body.toString('latin1')
    else if (id === 0x0032) stream = body.toString('utf16le')
    else if (id === 0x0031 && body.length >= 4) offset = body.readUInt32LE(0)
    else if (id === 0x002b) { // module terminator
      if (stream !== '') modules.push({ name: name !== '' ? name : stream, stream, offset })
      name = ''
      stream = ''
      offset = 0
    }
    at += 6 + size
  }
  return modules
}

const autoExec = /\b(Auto_?Open|AutoExec|AutoNew|AutoClose|Auto_Close|Document_Open|Document_Close|Document_New|Workbook_Open|Workbook_Activate|Workbook_BeforeClose|DocumentOpen|Document_ContentControlOnEnter|Worksheet_Change)\b/i
const dangerous = /\b(Shell|ShellExecute|CreateObject|GetObject|WScript|URLDownloadToFile|PowerShell|MSXML2\.XMLHTTP|WinHttp|ADODB\.Stream|Environ|CallByName|Kill|Open\s+\S+\s+For\s+(Output|Binary)|VirtualAlloc|RtlMoveMemory|CreateThread|Lib\s+"kernel32")\b/i

/// True when the macro sources together have an auto-exec entry point and a dangerous call.
export function suspicious (sources: readonly string[]): boolean {
  const text = sources.join('\n')
  return autoExec.test(text) && dangerous.test(text)
}
