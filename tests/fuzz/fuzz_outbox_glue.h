/*
** fuzz_outbox_glue.h: the glue's part in fuzz_outbox.c, played exactly: every action
** imp_outbox_next() returns is carried out (fetch, beacon, fetchLater, cancel, store,
** remove, scan, purge) with the outcome the input picks, and pump() loops until the
** outbox has nothing to do now. A scan may wait for its Web Lock (granted at a later
** step); a request may be remembered to answer later or answered at once.
*/
/* This tab's writes and removals (the other tab's claim on the key may be lost). */
static void rec_remove(const char *key) {
  claim_lost(key);
  rec_drop(key);
}

static int rec_put(const char *key, const uint8_t *value, uint32_t len) {
  claim_lost(key);
  return rec_write(key, value, len);
}

/*=== MARK: - The glue ===*/
/* The JSON the collector reads from the body of the last action (a copy, to free):
** with the core's compress the body must be one gzip member, which is inflated; a
** body over body_bytes must carry a single event (nothing smaller can be cut). */
static uint8_t *action_json(uint32_t *len) {
  const imp_action *a = imp_outbox_action_ptr();
  const uint8_t *body = imp_outbox_io_ptr();
  if (a->body_bytes > imp_ob.cfg.body_bytes && a->events > 1)
    fz_fail("a body over body_bytes carries several events", (const char *)body, a->body_bytes);
  if (!imp_g.cfg.compress) {
    uint8_t *copy = malloc(a->body_bytes + 1u);
    memcpy(copy, body, a->body_bytes);
    *len = a->body_bytes;
    return copy;
  }
  uint8_t *json = malloc(IMP_OB_IO_BYTES);
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit2(&z, 16 + 15) != Z_OK) abort();
  z.next_in = (Bytef *)(uintptr_t)body;
  z.avail_in = a->body_bytes;
  z.next_out = json;
  z.avail_out = IMP_OB_IO_BYTES;
  int s = inflate(&z, Z_FINISH);
  *len = (uint32_t)z.total_out;
  inflateEnd(&z);
  if (s != Z_STREAM_END || z.avail_in != 0)
    fz_fail("a compressed body is not one gzip member", (const char *)body, a->body_bytes);
  return json;
}

static void remember(req *list, uint32_t *n, uint32_t cap, uint32_t ticket) {
  if (*n == cap) return;
  list[*n].ticket = ticket;
  list[*n].body = action_json(&list[*n].len);
  (*n)++;
}

static void forget(req *list, uint32_t *n, uint32_t i) {
  free(list[i].body);
  list[i] = list[--*n];
}

/* One scan, as the glue runs it when its lock is granted. The records are listed
** then; the live tabs' ids are told (a refusal skips the id). A scan the outbox ended
** meanwhile (consent revoked) refuses the records (the glue stops) and has nothing
** to end; one it still has open takes every call. */
static int32_t scan(void) {
  int32_t s = IMP_OK;
  other_tab_before_scan();
  qsort(store, store_n, sizeof store[0], by_key);
  if (other_live && locks) {
    memcpy(imp_outbox_io_ptr(), prev_tab, strlen(prev_tab));
    imp_outbox_tab_live(now, (uint32_t)strlen(prev_tab));
  }
  for (uint32_t i = 0; i < store_n; i++) {
    uint32_t kl = (uint32_t)strlen(store[i].key);
    memcpy(imp_outbox_io_ptr(), store[i].key, kl);
    memcpy(imp_outbox_io_ptr() + kl, store[i].value, store[i].len);
    s = imp_outbox_found(now, kl, store[i].len);
    SAY("  found %s: status %d verdict %u\n", store[i].key, s, imp_outbox_action_ptr()->found);
    if (!scan_open && s == IMP_ERR_STATE) return IMP_OK; /* ended meanwhile */
    if (s != IMP_OK) return s;
    if (!scan_open) fz_fail("a scan ended by consent takes a record", NULL, 0);
    if (imp_outbox_action_ptr()->found == IMP_FOUND_REMOVE) rec_remove(store[i--].key);
  }
  s = imp_outbox_scan_done(now);
  if (s >= 0 && s != (scan_open ? IMP_OK : IMP_NONE)) fz_fail("scan_done: open and ended confused", NULL, 0);
  if (s == IMP_OK) other_tab_after_scan();
  scan_open = 0;
  return s;
}

/* The SCAN action: the scan runs now, or when its lock is granted (a later step). One
** that takes the lock (ticket 1: the one before waited too long) runs now; the
** requests still waiting are granted later, as a browser does. */
static int32_t scan_action(uint8_t luck) {
  scan_open = 1;
  scan_asked = now;
  if (settle || !(luck & 1) || scan_waits == 4 || imp_act.ticket) return scan();
  scan_waits++;
  return IMP_OK;
}

static int32_t store_action(uint8_t luck) {
  const imp_action *a = imp_outbox_action_ptr();
  char key[IMP_OB_KEY_BYTES + 1];
  int outcome = storage_mode;
  memcpy(key, imp_outbox_io_ptr(), a->key_bytes);
  key[a->key_bytes] = '\0';
  if (outcome == IMP_STORE_OK && !settle && (luck & 63) == 63) outcome = IMP_STORE_FULL;
  if (outcome == IMP_STORE_OK &&
      !rec_put(key, imp_outbox_io_ptr() + a->key_bytes, a->body_bytes))
    outcome = IMP_STORE_FULL;
  SAY("  store outcome %d (%u records)\n", outcome, store_n);
  return imp_outbox_stored(now, a->ticket, outcome);
}

static int32_t cancel_action(uint8_t luck) {
  uint32_t ticket = imp_outbox_action_ptr()->ticket;
  for (uint32_t i = 0; i < fetch_n; i++)
    if (fetches[i].ticket == ticket) {
      /* an aborted request may have reached the collector already */
      if (net_up && (luck & 1)) collect(fetches[i].body, fetches[i].len, 0, 0);
      if ((luck & 2) && cancelled_n < MAX_PENDING) cancelled[cancelled_n++] = ticket;
      forget(fetches, &fetch_n, i);
      return IMP_OK;
    }
  for (uint32_t i = 0; i < later_n; i++)
    if (laters[i].ticket == ticket) {
      forget(laters, &later_n, i);
      break;
    }
  return IMP_OK;
}

static int32_t beacon_action(uint8_t luck) {
  const imp_action *a = imp_outbox_action_ptr();
  int outcome = (luck % 8u) < 5u ? IMP_BEACON_ACCEPTED : (luck % 8u) < 7u ? IMP_BEACON_REFUSED
                                                                           : IMP_BEACON_THREW;
  /* Accepted is final: the browser sends it, and what the collector then does is
  ** not knowable (the Beacon API says nothing), so it counts as delivered. */
  if (outcome == IMP_BEACON_ACCEPTED) {
    uint32_t len;
    uint8_t *json = action_json(&len);
    collect(json, len, 1, 1);
    free(json);
  }
  return imp_outbox_beacon(now, a->ticket, outcome);
}

/* A working collector's answer: 204, or 400 for a body with a refused event. */
static int32_t answer_at_once(uint32_t ticket, const uint8_t *body, uint32_t len) {
  int refuse = verdict_of(body, len, 0) == 2;
  uint32_t delivered = imp_act.delivered;
  if (!refuse) collect(body, len, 0, 0);
  int32_t s = imp_outbox_response(now, ticket, refuse ? 400 : 204, -1.0, 0.5);
  if (imp_act.delivered != delivered) collect(body, len, 0, 1); /* the outbox heard it */
  return s;
}

/* Carries out one action; luck is an input byte for the outcomes chosen at once. */
static int32_t perform(uint8_t luck) {
  const imp_action *a = imp_outbox_action_ptr();
  char key[IMP_OB_KEY_BYTES + 1];
  if (a->kind == IMP_ACT_FETCH || a->kind == IMP_ACT_BEACON || a->kind == IMP_ACT_LATER) {
    uint32_t len;
    uint8_t *json = action_json(&len);
    check_send(json, len);
    free(json);
  }
  switch (a->kind) {
  case IMP_ACT_FETCH:
    if (!settle && fetch_n < MAX_PENDING) {
      remember(fetches, &fetch_n, MAX_PENDING, a->ticket);
      return IMP_OK;
    }
    {
      uint32_t len;
      uint8_t *json = action_json(&len);
      int32_t s = answer_at_once(a->ticket, json, len);
      free(json);
      return s;
    }
  case IMP_ACT_BEACON: return beacon_action(luck);
  case IMP_ACT_LATER:
    if (luck & 4) return imp_outbox_later(now, a->ticket, 0);
    remember(laters, &later_n, 64, a->ticket);
    return imp_outbox_later(now, a->ticket, 1);
  case IMP_ACT_CANCEL: return cancel_action(luck);
  case IMP_ACT_STORE: return store_action(luck);
  case IMP_ACT_REMOVE:
    memcpy(key, imp_outbox_io_ptr(), a->key_bytes);
    key[a->key_bytes] = '\0';
    rec_remove(key);
    return IMP_OK;
  case IMP_ACT_SCAN: return scan_action(luck);
  case IMP_ACT_PURGE:
    while (store_n) rec_remove(store[0].key);
    return IMP_OK;
  default: fz_fail("unknown action", NULL, 0);
  }
}

static void expect_ok(int32_t s, const char *what) {
  if (s < 0) {
    imp_status_name(s);
    fprintf(stderr, "%s: %s\n", what, (const char *)imp_text_ptr());
    fz_fail("a glue call was refused", NULL, 0);
  }
}

/* Runs the glue's loop until the outbox has nothing to do now. */
static void pump(fz_in *in) {
  for (int i = 0;; i++) {
    if (i == 5000) fz_fail("the outbox does not settle", NULL, 0);
    if (scan_open && now >= scan_asked + imp_ob.cfg.timeout_ms) scan_open = 0; /* given up */
    int32_t s = imp_outbox_next(now, fz_u8(in) / 256.0);
    expect_ok(s, "next");
    /* A deadline already due with nothing done would have the glue's timer fire at
    ** once, again and again, while nothing changes (a busy loop in the page). */
    if (s == IMP_NONE && imp_act.deadline >= 0.0 && imp_act.deadline <= now)
      fz_fail("nothing to do, yet a deadline already due", NULL, 0);
    if (s == IMP_NONE) return;
    SAY(" action %u #%u b%u n%u %.*s\n", imp_act.kind, imp_act.ticket, imp_act.batch,
        imp_act.events, (int)(imp_act.key_bytes + imp_act.body_bytes), (const char *)imp_ob_io);
    expect_ok(perform(fz_u8(in)), "outcome");
    other_tab_between();
  }
}
