/// icap-server-lite: an ICAP/1.0 server (RFC 3507) for Node.js, with the content decision left to
/// the application. The public API: the server and its options, the handler seam, the events, the
/// answer builders, the error table, and the protocol pieces (parser, chunked codec, Encapsulated,
/// headers, service table) for those who drive a connection themselves.
export { IcapServer, type IcapServerOptions, type IcapTlsOptions } from './server.js'
export type { IcapHandler, IcapTransactionInfo, IcapAnswer, ReceivedBody, BodyStore, BodyWriter, HttpReply, HeaderField, IcapLogger, TricklePlan, TransferLists } from './handler.js'
export { silentLogger } from './handler.js'
export { MemoryBodyStore } from './memory-body.js'
export type { IcapServerEvents, TransactionRecord } from './events.js'
export { allowAnswer, blockAnswer, threatHeaders } from './builders.js'
export { icapErrors, IcapError, statusOf, statusOfError, type IcapErrorCode } from './errors.js'
export { IcapParser, type IcapEvent, type ParseFailure, type ParserLimits } from './parser.js'
export { ChunkedDecoder, chunkHeader, lastChunk, type ChunkSink, type ChunkLimits } from './chunked.js'
export { parseEncapsulated, formatEncapsulated, type Encapsulated } from './encapsulated.js'
export { Headers, parseHeaderBlock, type ParsedBlock } from './headers.js'
export { serviceFromUri, httpUrl, declaredLength, type IcapRequest, type IcapMethod, type HttpPart } from './request.js'
export { ServiceTable, type IcapService, type Lookup } from './services.js'
export { istagFor, includedHeaders } from './options.js'
export { statusLine, reasonPhrase } from './status.js'
export { responseEnd } from './framing.js'
export { SpoolGate, type SpoolGateOptions } from './spool-gate.js'
