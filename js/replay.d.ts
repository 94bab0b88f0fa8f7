// Types of 'impression-tracker/replay'.
import type { WasmSource } from './index.js';

/**
 * Replays a trace (the debug option's trace(), format v1) through a fresh core and resolves to
 * exactly what the native replay tool prints for it: each batch the core cut followed
 * by "\n", "! <line> <STATUS_NAME>" or "! <line> PARSE" lines for refused or
 * malformed calls, and for delivery's lines (src/replay_outbox.c) the outbox's actions
 * against a simulated localStorage.
 */
export function replay(trace: string | Uint8Array, wasm: WasmSource): Promise<Uint8Array>;
