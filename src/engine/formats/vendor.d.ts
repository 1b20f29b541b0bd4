/// Types for npm packages that ship none (only what the handlers use).
declare module 'unbzip2-stream' {
  import type { Duplex } from 'node:stream'
  export default function unbzip2 (): Duplex
}

/// he (HTML entities): only decode, for the HTML normaliser's named references (matcher/html-entities.ts).
declare module 'he' {
  const he: { decode: (text: string, options?: { readonly strict?: boolean }) => string }
  export default he
}
