/// The frame around a hand-assembled WebAssembly function (the text kernels of textnorm.ts and
/// htmlnorm-kernel.ts): one type `(i32, i32, i32, i32) -> i32`, one function with the given body,
/// exported under `exportName`, and its own memory of `pages` 64 KiB pages exported as `mem`.
/// `fn` is the function's code entry without its size: local declarations, then the body.
import { uleb } from './leb128.js'

export function wasmModule (exportName: string, pages: number, fn: readonly number[]): Uint8Array {
  const I32 = 0x7f
  const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content]
  const name = [...Buffer.from(exportName, 'latin1')]
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 4, I32, I32, I32, I32, 1, I32]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, pages]),
    ...section(7, [2, name.length, ...name, 0x00, 0, 3, ...Buffer.from('mem'), 0x02, 0]),
    ...section(10, [1, ...uleb(fn.length), ...fn]),
  ])
}
