/// What signature offsets and unpackers need to know about an executable's layout, whatever its
/// format: the entry point and the sections as file offsets. ClamAV's `EP+n`, `Sx+n`, `SL+n`,
/// `SEx` offsets and the `.ldb` TDB conditions (EntryPoint, NumberOfSections) are answered from this.

export type ExecutableFormat = 'pe' | 'elf' | 'macho'

export interface ExecutableSection {
  /// Address the loader maps the section to (PE: RVA; ELF/Mach-O: virtual address).
  readonly virtualAddress: number
  readonly virtualSize: number
  /// Where the section's bytes start in the file, and how many bytes the file holds for it.
  readonly rawOffset: number
  readonly rawSize: number
  readonly name: string
}

export interface ExecutableInfo {
  readonly format: ExecutableFormat
  /// File offset of the entry point, or undefined when it lies outside every mapped byte of the file.
  readonly entryPoint: number | undefined
  /// The entry point as the loader sees it (PE: RVA; ELF/Mach-O: virtual address).
  readonly entryAddress: number
  readonly sections: readonly ExecutableSection[]
  /// PE only: the preferred load address and the section/file alignment (0 elsewhere).
  readonly imageBase: number
  readonly sectionAlignment: number
  readonly fileAlignment: number
  /// First byte after the last section's raw data: anything past it is overlay (SFX payloads).
  readonly overlayOffset: number
}

/// Maps an address in the loader's view to a file offset through the section that maps it.
export function addressToOffset (sections: readonly ExecutableSection[], address: number): number | undefined {
  for (const s of sections) {
    const span = Math.max(s.virtualSize, s.rawSize)
    if (address >= s.virtualAddress && address < s.virtualAddress + span) {
      const delta = address - s.virtualAddress
      return delta < s.rawSize ? s.rawOffset + delta : undefined
    }
  }
  return undefined
}

/// The layout of a format without PE's image base and alignments (ELF, Mach-O), with the entry point
/// and overlay kept inside the file's `size` bytes.
export function unalignedLayout (format: ExecutableFormat, size: number, entryPoint: number | undefined, entryAddress: number,
  sections: readonly ExecutableSection[], overlayOffset: number): ExecutableInfo {
  return {
    format,
    entryPoint: entryPoint !== undefined && entryPoint < size ? entryPoint : undefined,
    entryAddress,
    sections,
    imageBase: 0,
    sectionAlignment: 0,
    fileAlignment: 0,
    overlayOffset: Math.min(overlayOffset, size),
  }
}
