/*
** fuzz_outbox_pages.h: page views and page loads of fuzz_outbox.c: a load starts the
** core and its outbox with a configuration the input picks, under a new tab id; a page
** dies after a page hide (clean: it must lose nothing) or at once (a crash), its
** requests in flight and fetchLater copies may still reach the collector, and what it
** lost is measured then.
*/
/*=== MARK: - Page loads ===*/
static void note_seq(void) {
  if (core_alive && imp_g.seq > seq_max[pv_cur]) seq_max[pv_cur] = imp_g.seq;
}

static int begin_pv(void) {
  if (pv_n == MAX_PV) return 0;
  note_seq();
  snprintf(pv_ids[pv_n], sizeof pv_ids[0], "L%dP%u", load, pv_n);
  size_t n = strlen(pv_ids[pv_n]);
  memcpy(imp_input_ptr(), pv_ids[pv_n], n);
  memcpy(imp_input_ptr() + n, "/x", 2);
  pv_cur = pv_n++;
  expect_ok(imp_page_begin(now, (uint32_t)n, 2, hidden ? IMP_FLAG_HIDDEN : 0u), "page");
  note_seq();
  return 1;
}

static int start_load(fz_in *in) {
  uint8_t a = fz_u8(in), b = fz_u8(in);
  imp_outbox_config *c = imp_outbox_config_ptr();
  load++;
  imp_config *core = imp_config_ptr();
  imp_config_defaults();
  core->max_items = 9;
  core->max_queue = 8u + a % 24u;
  core->queue_bytes = 4096u + (a & 1u) * 4096u;
  core->batch_events = 1u + (a >> 1) % 6u;
  core->batch_bytes = 4096;
  core->compress = (a >> 4) & 1u; /* with it, batches may be cut up to 60 KiB of JSON */
  core->window_bits = 8;
  core->batch_age_ms = 2000;
  core->view_ms = 500;
  expect_ok(imp_start(), "start");
  hidden = 0;
  core_alive = 1;
  if (!begin_pv()) return 0;
  c->max_batches = 1u + b % 4u;
  c->body_bytes = 4096;
  c->keepalive_bytes = 4096u + (b >> 2) % 4u * 4096u;
  c->later_bytes = 8192;
  c->consent = (b & 0x70) == 0x70 ? IMP_CONSENT_PENDING : IMP_CONSENT_GRANTED;
  locks = (b & 0x80) != 0;
  c->flags = IMP_OB_BEACON | IMP_OB_STORAGE | (net_up ? IMP_OB_ONLINE : 0u) |
             ((b & 8) ? IMP_OB_LATER : 0u) | (locks ? IMP_OB_LOCKS : 0u);
  snprintf(tab, sizeof tab, "t%d", load);
  memcpy(imp_outbox_io_ptr(), tab, strlen(tab));
  expect_ok(imp_outbox_start(now, epoch, (uint32_t)strlen(tab)), "outbox start");
  pump(in);
  return 1;
}

/* The page goes away: after a page hide (clean) or at once (crash). Requests in
** flight may still reach the collector; fetchLater copies are sent. */
static void die(fz_in *in, int crash) {
  int clean = 0;
  if (!crash) {
    expect_ok(imp_page_state(now, IMP_PAGE_HIDDEN), "hide");
    hidden = 1;
    pump(in);
    clean = imp_ob.storage_ok && imp_ob.consent == IMP_CONSENT_GRANTED;
  }
  note_seq();
  for (uint32_t i = 0; i < store_n; i++)
    SAY("  record %s: %.*s\n", store[i].key, (int)(memchr(store[i].value, '\n', store[i].len) ?
        (const uint8_t *)memchr(store[i].value, '\n', store[i].len) - store[i].value : store[i].len),
        (const char *)store[i].value);
  SAY("  death: queued %u, outbox visible %d, page open %d state %d, held %u\n", imp_g.rec_count,
      imp_ob.visible, imp_g.page_open, imp_g.page_state, imp_act.held_batches);
  for (uint32_t i = 0; i < imp_ob.nslots; i++)
    SAY("  slot %u: b%u state %u flags %x events %u\n", i, imp_ob.slots[i].id,
        imp_ob.slots[i].state, imp_ob.slots[i].flags, imp_ob.slots[i].events);
  check_law();
  while (fetch_n) {
    if (net_up && (fz_u8(in) & 1)) collect(fetches[0].body, fetches[0].len, 0, 0);
    forget(fetches, &fetch_n, 0);
  }
  while (later_n) {
    check_send(laters[0].body, laters[0].len);
    if (net_up) collect(laters[0].body, laters[0].len, 0, 0);
    forget(laters, &later_n, 0);
  }
  purged_before += imp_act.purged;
  core_alive = 0;
  scan_waits = scan_open = 0; /* the page's lock requests go with it */
  cancelled_n = 0;
  long long lost = excused_imbalance();
  if (lost < 0) fz_fail("a page death made a loss count twice", NULL, 0);
  if (clean && lost != 0) fz_fail("a clean page death lost events", NULL, 0);
  allowed += lost;
  snprintf(prev_tab, sizeof prev_tab, "%s", tab);
  other_live = locks && (fz_u8(in) & 1);
}
