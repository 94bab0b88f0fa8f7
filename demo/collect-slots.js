// collect-slots.js: how many POST /collect requests the collector holds at once, from
// their headers to their answer (each holds at most one body, its inflated copy and the
// parsed batch until it is stored). At the cap, the request that has been receiving its
// body longest loses its slot to the newcomer (answered 408 by the collector), so bodies
// that trickle in cannot hold every slot; when no request is still receiving (all are
// being stored), there is no slot and the newcomer is refused.

/**
 * @param {number} max slots over all clients
 */
export function createCollectSlots(max) {
  /** @type {Set<{receiving: boolean, evict: () => void}>} insertion order: oldest first */
  const held = new Set();
  return {
    /**
     * A slot for the request answered by `res`, freed when `res` closes, or null when the
     * cap is reached and none of the holders is still receiving its body. `evict` is called
     * when a newer request takes this slot while its body is still arriving.
     * @param {import('node:http').ServerResponse} res
     * @param {() => void} evict
     */
    take(res, evict) {
      if (held.size >= max) {
        let oldest = null;
        for (const slot of held) {
          if (slot.receiving) {
            oldest = slot;
            break;
          }
        }
        if (!oldest) return null;
        held.delete(oldest);
        oldest.evict();
      }
      const slot = { receiving: true, evict };
      held.add(slot);
      res.once('close', () => held.delete(slot));
      return slot;
    },
  };
}
