/// Compiled HTML Help (ITSF/LZX), decoded by the 7-Zip backend (npm 7z-wasm, see sevenzip.ts): no maintained pure-JS
/// decoder exists for this format, and 7-Zip's is the reference one. Limits hold per 64 KiB of output.
import { sevenZipHandler } from './sevenzip.js'

export const chmHandler = sevenZipHandler('chm', 'CHM')
