/// The part of the npm `parse-prometheus-text-format` package (plain JavaScript without types) the
/// console's /metrics test uses: the text format parsed into metric families.
declare module 'parse-prometheus-text-format' {
  interface Sample { readonly value?: string, readonly labels?: Readonly<Record<string, string>>, readonly buckets?: unknown, readonly quantiles?: unknown }
  interface Family { readonly name: string, readonly help: string, readonly type: string, readonly metrics: readonly Sample[] }
  export default function parse (text: string): Family[]
}
