/// What every executable unpacker returns: named children (a rebuilt image, unpacked sections, files
/// an installer or script carries), each scanned as a layer below the packed program.
export interface Unpacked {
  readonly name: string
  readonly bytes: Uint8Array
}
