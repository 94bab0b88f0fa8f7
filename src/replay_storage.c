/*
** replay_storage.c: the replay tool's simulated localStorage and Web Locks, for the
** delivery lines (src/replay_outbox.c describes them): records by key, which lives
** for the whole trace (a second `start` + `outbox` is the next page load, or a
** second tab, finding what the first one stored), the tabs that hold their lock, and
** the answers to a scan (imp_outbox_tab_live per live tab, imp_outbox_found per
** record in key order, imp_outbox_scan_done).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outbox.h"
#include "replay.h"

#define STORE_MAX 512

typedef struct record {
  char key[IMP_OB_KEY_BYTES + 1];
  char *value;
  size_t len;
} record;

static record storage[STORE_MAX];
static int stored_n;
static char live_tabs[IMP_OB_LIVE_TABS][IMP_OB_TAB_BYTES + 1];
/*=== MARK: - Simulated storage (Private) ===*/
static int find(const char *key) {
  for (int i = 0; i < stored_n; i++)
    if (strcmp(storage[i].key, key) == 0) return i;
  return -1;
}

void storage_put(const char *key, const char *value, size_t len) {
  int i = find(key);
  if (i < 0) {
    if (stored_n == STORE_MAX) return;
    i = stored_n++;
    snprintf(storage[i].key, sizeof storage[i].key, "%s", key);
  } else {
    free(storage[i].value);
  }
  storage[i].value = malloc(len + 1);
  if (!storage[i].value) exit(2);
  memcpy(storage[i].value, value, len);
  storage[i].value[len] = '\0';
  storage[i].len = len;
}

void storage_remove(const char *key) {
  int i = find(key);
  if (i < 0) return;
  free(storage[i].value);
  memmove(storage + i, storage + i + 1, (size_t)(--stored_n - i) * sizeof storage[0]);
}

/* Removes every record (a PURGE). */
void storage_clear(void) {
  while (stored_n) storage_remove(storage[0].key);
}

static int by_key(const void *a, const void *b) {
  return strcmp(((const record *)a)->key, ((const record *)b)->key);
}

/*=== MARK: - Scans (Private) ===*/
static const char *const verdicts[] = {"adopted", "left", "remove"};

/* found: one record of a real scan; prints the verdict and, as the glue does, removes
** a record the outbox says to remove. */
int32_t storage_found(double t, uint32_t key_len, uint32_t value_len) {
  char key[IMP_OB_KEY_BYTES + 1];
  uint32_t verdict;
  int32_t s = imp_outbox_found(t, key_len, value_len);
  if (s != IMP_OK) return s;
  verdict = imp_outbox_action_ptr()->found;
  memcpy(key, imp_outbox_io_ptr(), key_len); /* key_len <= IMP_OB_KEY_BYTES when IMP_OK */
  key[key_len] = '\0';
  printf("~ %s ", verdicts[verdict]);
  fwrite(key, 1, key_len, stdout); /* every byte, a NUL included */
  putchar('\n');
  /* A key with a NUL byte names no stored record (their keys are C strings). */
  if (verdict == IMP_FOUND_REMOVE && !memchr(key, 0, key_len)) storage_remove(key);
  return s;
}

int32_t storage_scan(double t) {
  int32_t s = IMP_OK;
  qsort(storage, (size_t)stored_n, sizeof storage[0], by_key);
  for (int i = 0; i < (int)IMP_OB_LIVE_TABS && s >= 0; i++) {
    size_t n = strlen(live_tabs[i]);
    if (!n) continue;
    memcpy(imp_outbox_io_ptr(), live_tabs[i], n);
    s = imp_outbox_tab_live(t, (uint32_t)n);
  }
  for (int i = 0; i < stored_n && s >= 0; i++) {
    size_t kl = strlen(storage[i].key);
    if (kl + storage[i].len > IMP_OB_IO_BYTES) continue;
    memcpy(imp_outbox_io_ptr(), storage[i].key, kl);
    memcpy(imp_outbox_io_ptr() + kl, storage[i].value, storage[i].len);
    s = storage_found(t, (uint32_t)kl, (uint32_t)storage[i].len);
    if (s != IMP_OK) break;
    if (imp_outbox_action_ptr()->found == IMP_FOUND_REMOVE) i--; /* storage_found removed it */
  }
  return s < 0 ? s : imp_outbox_scan_done(t);
}

/*=== MARK: - Lines on storage (Private) ===*/
void storage_show(void) {
  qsort(storage, (size_t)stored_n, sizeof storage[0], by_key);
  for (int i = 0; i < stored_n; i++) {
    const char *nl = memchr(storage[i].value, '\n', storage[i].len);
    int line = nl ? (int)(nl - storage[i].value) : (int)storage[i].len;
    printf("$ %s %.*s\n", storage[i].key, line, storage[i].value);
  }
}

int storage_set_live(const char *tab, int alive) {
  int free_at = -1;
  if (strlen(tab) > IMP_OB_TAB_BYTES) return 0;
  for (int i = 0; i < (int)IMP_OB_LIVE_TABS; i++) {
    if (!strcmp(live_tabs[i], tab)) {
      if (!alive) live_tabs[i][0] = '\0';
      return 1;
    }
    if (!live_tabs[i][0] && free_at < 0) free_at = i;
  }
  if (alive && free_at >= 0) snprintf(live_tabs[free_at], sizeof live_tabs[0], "%s", tab);
  return 1;
}

int storage_put_line(const char *key, const char *value) {
  static uint8_t buf[IMP_OB_IO_BYTES];
  size_t len = 0;
  if (strlen(key) > IMP_OB_KEY_BYTES || !decode_string(value, buf, sizeof buf, &len) ||
      len > sizeof buf)
    return 0;
  storage_put(key, (const char *)buf, len);
  return 1;
}
