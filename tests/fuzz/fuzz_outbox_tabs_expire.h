/*
** fuzz_outbox_tabs_expire.h: how the other live tab of fuzz_outbox.c loses a batch it
** holds (its claims and the place "taken": fuzz_outbox_tabs.h; when it acts:
** fuzz_outbox_tabs_acts.h), as a real tracker's outbox does:
**   a refusal for good of its request (fuzz_outbox_tabs_acts.h decides it);
**   age: at its outbox's next action (a step the input picks, after one of its
**     requests failed), every batch it holds that no request of its carries (taken,
**     its claim confirmed or not yet), whose record was created more than max_age_ms
**     ago on the wall clock, is counted lost (src/outbox_send.c: the batch is freed,
**     and its stored copy removed by key, whoever wrote that key last).
** Either way it counts the events and the copy's "drop" (other_counted). Events this
** tab holds then (a released copy, a claim whose write failed), or held or counted
** since the take (its claim lost to this tab's write or removal before the other
** tab's confirming scan), are shared: this tab may deliver them or count them too, an
** over-count the core cannot know (taken_unheard() excuses it, taken_given_back()
** returns the excuse once this tab lets its copy go uncounted).
*/

/* The other tab counts t's events and its "drop" lost and removes t's record; with
** `stale`, this tab held or counted them since the take. */
static void other_loses(taken_rec *t, int stale) {
  for (uint32_t k = 0; k < t->events; k++) {
    other_lost[t->pv][t->s[k]] = 1;
    shared[t->pv][t->s[k]] |= (uint8_t)(stale || this_tab_holds(t->pv, t->s[k]));
  }
  other_lost_drop[t->pv][t->s[0]] = t->drop;
  other_counted += t->events + t->drop;
  rec_drop(t->key);
  t->state = DELIVERED;
}

/* The other tab's outbox acts: a held batch older than max_age_ms, not in flight, is
** counted lost. One whose claim was lost is forgotten too (the events are
** this tab's: no claim of the other tab's stands for this tab's scans to see). */
static void other_tab_expires(void) {
  for (uint32_t i = 0; i < taken_n; i++) {
    taken_rec *t = &taken[i];
    if (t->state == DELIVERED || t->in_flight || !t->events ||
        !(epoch + now - t->created > imp_ob.cfg.max_age_ms))
      continue;
    int stale = !claim_stands(t);
    SAY("  other tab %s expires %s%s: %u events lost\n", other_id, t->key,
        stale ? " (its claim lost)" : "", t->events);
    other_loses(t, stale);
    if (stale) taken_free(i--);
  }
}
