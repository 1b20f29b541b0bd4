/// Collects an object's facts during the one walk (src/engine/engine.ts calls it per layer and per
/// container child): each layer's true type, Authenticode blocks of PE and CAB layers, a Java
/// archive's signature files, VBA macros, scripts. Cheap by construction: no pass over the bytes
/// beyond a PE/CAB header and its signature blob, a JAR's signature block, and two bytes of a text
/// layer; bounded by maxFactTypes and maxCodeFacts whatever the object holds.
import type { ByteSource } from '../source.js'
import type { FileType } from '../filetype.js'
import { maxCodeFacts, maxFactTypes, type CodeFact, type ObjectFacts } from '../verdict.js'
import { cabSignature, maxSignatureBytes, peSignature } from './authenticode.js'
import { signedDataSigner, type SignerFacts } from './pkcs7.js'

/// A JAR's manifest, or a class file at any depth: what makes a zip a Java archive.
const jarMarker = /^META-INF\/MANIFEST\.MF$|\.class$/i
/// jarsigner's pair: the signature file and its PKCS#7 block (RSA, DSA or EC key).
const jarSignatureFile = /^META-INF\/[^/]+\.SF$/i
const jarSignatureBlock = /^META-INF\/[^/]+\.(RSA|DSA|EC)$/i
/// VBA: the OLE2 handler names each decompressed module `<storage>/<module>.vba`; OOXML keeps the
/// project as a vbaProject.bin part (whose modules then show up as .vba children too).
const vbaModule = /\.vba$/i
const vbaProject = /(^|\/)vbaProject\.bin$/i

/// The facts of one zip being walked, told each child as it comes.
export class ZipFacts {
  jar = false
  #sf = false
  #block: SignerFacts | undefined

  async child (name: string, source: ByteSource): Promise<void> {
    if (jarMarker.test(name)) this.jar = true
    if (jarSignatureFile.test(name)) this.#sf = true
    if (this.#block === undefined && jarSignatureBlock.test(name) && source.size <= maxSignatureBytes) {
      this.#block = signedDataSigner(await source.read(0, source.size))
    }
  }

  /// A JAR is signed when it has both halves and the block is a SignedData with a signer.
  signature (): SignerFacts {
    if (!this.#sf || this.#block === undefined || !this.#block.signed) return { signed: false }
    return this.#block
  }
}

/// Whether a container's child of this name is VBA (a module or an OOXML project).
export function macroChild (name: string): boolean { return vbaModule.test(name) || vbaProject.test(name) }

export class FactsCollector {
  readonly #types: FileType[] = []
  readonly #code: CodeFact[] = []
  #macros = false
  #script = false

  #addCode (fact: CodeFact): void {
    if (this.#code.length < maxCodeFacts) this.#code.push(fact)
  }

  /// Called once per layer, after its type is known; `ancestry`: the containers' types.
  async layer (source: ByteSource, type: FileType, path: readonly string[], ancestry: readonly FileType[]): Promise<void> {
    if (!this.#types.includes(type) && this.#types.length < maxFactTypes) this.#types.push(type)
    if (type === 'pe') {
      const sig = await peSignature(source)
      if (sig !== undefined) this.#addCode({ kind: 'pe', path, signed: sig.signed, dll: sig.dll, ...(sig.signer === undefined ? {} : { signer: sig.signer }) })
    } else if (type === 'cab') {
      const sig = await cabSignature(source)
      this.#addCode({ kind: 'cab', path, signed: sig.signed, ...(sig.signer === undefined ? {} : { signer: sig.signer }) })
    } else if (type === 'java-class' && !ancestry.includes('zip')) {
      // A bare class file (an applet) cannot carry a signature; one inside a zip is the JAR's.
      this.#addCode({ kind: 'jar', path, signed: false })
    } else if (type === 'text' && !this.#script) {
      const start = await source.read(0, 2)
      this.#script = start[0] === 0x23 && start[1] === 0x21
    }
  }

  /// A container's child, before it is walked.
  child (name: string): void {
    if (macroChild(name)) this.#macros = true
  }

  /// A zip finished walking: a Java archive becomes a code fact.
  zipDone (zip: ZipFacts, path: readonly string[]): void {
    if (!zip.jar) return
    const sig = zip.signature()
    this.#addCode({ kind: 'jar', path, signed: sig.signed, ...(sig.signer === undefined ? {} : { signer: sig.signer }) })
  }

  result (encrypted: boolean): ObjectFacts {
    return { types: [...this.#types], encrypted, code: [...this.#code], macros: this.#macros, script: this.#script }
  }
}
