/// Types for npm packages that ship none (only what the handlers use).
declare module 'unbzip2-stream' {
  import type { Duplex } from 'node:stream'
  export default function unbzip2 (): Duplex
}
