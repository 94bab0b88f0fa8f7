// Types of 'impression-tracker/replay'.
import type { WasmSource } from './index.js';

/**
 * Replays a trace (the debug option's trace(), format v1) through a fresh core and resolves to
 * exactly what the native replay tool prints for it: each batch the core cut followed
 * by "\n", and "! <line> <STATUS_NAME>" or "! <line> PARSE" lines for refused or
 * malformed calls.
 */
export function replay(trace: string | Uint8Array, wasm: WasmSource): Promise<Uint8Array>;
