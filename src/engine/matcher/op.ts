/// The opcodes of a part's position program (compile.ts writes them, stream.ts runs them). Their own
/// module so a scan worker, which only runs programs, does not load the compiler and hex parser.
export const enum Op { Byte = 0, Mask = 1, Set = 2, Alt = 3 }
