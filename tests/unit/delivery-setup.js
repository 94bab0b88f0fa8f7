// What the delivery-*.test.js files share: letting promise callbacks run, the storage
// key prefix, the outbox's confirmation delay for an adopted record, and one impression
// sent from a fake page.

/** Lets promise callbacks and the tasks they start run. */
export const ticks = async (n) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

export const PREFIX = 'impression-tracker:';
// An adopted record is sent once the scan a second after its claim finds the claim
// standing (src/outbox_adopt.c).
export const CONFIRM_MS = 1000;

/** A card in view and flushed: one impression handed to the outbox and sent. */
export async function oneImpression(page, tracker) {
  const card = page.el({ 'data-gig-id': 'gig-1' });
  page.document.body.append(card);
  await page.settle();
  page.intersect(card, 1);
  tracker.flush();
}
