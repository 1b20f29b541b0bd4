/// The milter protocol's numbers (version 6, as libmilter's mfdef.h and Postfix's milter8.c use
/// them): command and reply bytes, the action and protocol-step flags of the negotiation, and the
/// macro stages a filter may ask macros for. Names follow libmilter's without the SMFI prefixes.

export const milterVersion = 6

/// MTA → filter commands.
export const Command = {
  optneg: 0x4f, // O
  macro: 0x44, // D
  connect: 0x43, // C
  helo: 0x48, // H
  mail: 0x4d, // M
  rcpt: 0x52, // R
  data: 0x54, // T
  header: 0x4c, // L
  eoh: 0x4e, // N
  body: 0x42, // B
  eom: 0x45, // E
  abort: 0x41, // A
  quit: 0x51, // Q
  quitNewConnection: 0x4b, // K
  unknown: 0x55, // U
} as const

/// Filter → MTA replies.
export const Reply = {
  optneg: 0x4f, // O
  continue: 0x63, // c
  accept: 0x61, // a
  reject: 0x72, // r
  tempfail: 0x74, // t
  discard: 0x64, // d
  replyCode: 0x79, // y
  progress: 0x70, // p
  addHeader: 0x68, // h
  changeHeader: 0x6d, // m
  insertHeader: 0x69, // i
  quarantine: 0x71, // q
} as const

/// Modifications the filter may make (the negotiation's action mask).
export const Action = {
  addHeaders: 0x01,
  changeBody: 0x02,
  addRecipient: 0x04,
  deleteRecipient: 0x08,
  changeHeaders: 0x10,
  quarantine: 0x20,
  changeFrom: 0x40,
  addRecipientWithArgs: 0x80,
  setSymbolList: 0x100,
} as const

/// Protocol steps: NO_* (do not send this step), NR_* (send it, the filter will not reply).
export const Step = {
  noConnect: 0x01,
  noHelo: 0x02,
  noMail: 0x04,
  noRcpt: 0x08,
  noBody: 0x10,
  noHeaders: 0x20,
  noEoh: 0x40,
  noReplyHeader: 0x80,
  noUnknown: 0x100,
  noData: 0x200,
  skip: 0x400,
  rcptRejected: 0x800,
  noReplyConnect: 0x1000,
  noReplyHelo: 0x2000,
  noReplyMail: 0x4000,
  noReplyRcpt: 0x8000,
  noReplyData: 0x10000,
  noReplyUnknown: 0x20000,
  noReplyEoh: 0x40000,
  noReplyBody: 0x80000,
  headerLeadingSpace: 0x100000,
} as const

/// The stages a filter may ask macros for in its negotiation reply (libmilter's SMFIM_*).
export const MacroStage = {
  connect: 0,
  helo: 1,
  mail: 2,
  rcpt: 3,
  data: 4,
  eom: 5,
  eoh: 6,
} as const

export type MacroStageName = keyof typeof MacroStage
