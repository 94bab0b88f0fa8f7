// Type declarations for 'impression-tracker/debug' (handwritten; checked by `make types`).

/** One step of delivery, as deliveryDebug() passes it on. */
export interface DeliveryDebugInfo {
  kind: 'fetch' | 'response' | 'retry' | 'beacon' | 'fetchLater' | 'store';
  [key: string]: unknown;
}

/** The value of the `debug` option (made only by deliveryDebug()). */
export type DeliveryDebug = (kind: number, ticket?: number, outcome?: unknown, key?: string, action?: DataView) => void;

/**
 * Delivery's debug hook, for the tracker's `debug` option: onDebug sees one call per
 * action and answer ({kind: 'fetch' | 'response' | 'retry' | 'beacon' | 'fetchLater' |
 * 'store', ticket, ...}; js/README.md "Observability").
 */
export function deliveryDebug(onDebug: (info: DeliveryDebugInfo) => void): DeliveryDebug;
