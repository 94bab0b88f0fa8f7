/*
** replay.c: the native replay tool (`make replay` builds build/replay).
**
** Reads a trace (the file named by the only argument, or stdin) and feeds it to the
** core through the exported functions of imp.h, exactly as the WebAssembly glue
** does, then prints what the core emitted. It is not part of the core: it may use
** libc freely. The WASM replay must print the same bytes for the same trace.
**
** Trace format v1. The input is split into lines at "\n"; lines are numbered from 1.
** A line that is empty or holds only spaces, tabs and CRs is blank; a line starting
** with '#' is a comment; both are ignored. Every other line is one call, fields
** separated by exactly one space, no leading or trailing space:
**   start <max_items> <max_queue> <queue_bytes> <batch_events> <batch_bytes>
**         <batch_age_ms> <view_ratio> <view_ms> <large_area> <large_ratio>
**         <impression_ratio> [<compress> [<window_bits> [<occlusion> [<echo_ms>]]]]
**                                                  -> the configuration record
**         (imp_config_defaults(), then these fields in the numbering of imp.h;
**         missing trailing fields keep their defaults), imp_start (one line)
**   page <t> <flags> <pv> <path>                   -> imp_page_begin
**   state <t> <state>                              -> imp_page_state
**   focus <t> <0|1>                                -> imp_page_focus
**   end <t>                                        -> imp_page_end
**   item <t> <position> <id> <list>                -> imp_item_register
**   elem <t> <position> <id> <list>                -> imp_element_add
**   unelem <t> <element>                           -> imp_element_remove
**   eobs <t> <element> <ratio> <area>              -> imp_element_observe
**   cover <t> <element> <0|1|2>                    -> imp_element_cover
**   act <t> <element> <0|1|2>                      -> imp_activate
**   tick <t>                                       -> imp_tick
**   take <t> <force>                               -> imp_take_batch
**   drop <n>                                       -> imp_report_dropped
** Numbers are written as JavaScript's String(n) writes them. A number field must be
** non-empty, must not start with white space, and strtod() must consume all of it
** ("NaN" and "Infinity" are numbers). A double parameter gets the value as parsed; an
** integer parameter gets it converted the way WebAssembly converts a JS number for
** an i32 parameter (ToInt32: NaN and infinities give 0, the fraction is dropped,
** the result is taken modulo 2^32), so `unelem 5 -1` passes element 4294967295.
** Strings (pv, path, id, list) are percent-encoded: every byte <= 0x20, >= 0x7F or
** '%' is written %XX (hex digits of either case are accepted when reading); "-"
** is the empty string and "%2D" a lone "-". A raw byte that must be escaped, or a
** '%' not followed by two hex digits, makes the line malformed. Strings are written
** into imp_input_ptr() one after the other (pv then path, id then list); bytes that
** do not fit in IMP_INPUT_BYTES are not copied, but the true lengths are passed, so
** the core refuses them by its length limits (it never reads past its limits).
** Slots are whatever imp_item_register() assigns; the core assigns them
** deterministically, so a trace names them by number; so are element handles
** (imp_element_add(): the lowest free handle first while none was given back).
**
** Output, and nothing else: for a malformed line (unknown call, wrong number of
** fields, bad number or string) "! <line> PARSE\n"; for a call returning a negative
** status "! <line> <STATUS_NAME>\n" (the name from imp_status_name()); for a `take`
** returning IMP_OK the batch bytes followed by "\n", then, when the batch was also
** compressed, "~ gzip <bytes> <hash>\n" with the FNV-1a 32-bit hash of the gzip
** bytes in 8 lowercase hex digits (the .wasm must compress to the same bytes).
** Exit status 0, or 2 when the trace cannot be read. Built with -DIMP_ENCODER_STATS,
** it also prints to stderr how many times the trace made the core compress, and how
** many bytes went in and came out (to find repeated work).
**
** The delivery calls (the outbox, src/outbox.h) and what they print are described
** in src/replay_outbox.c; the fields are decoded in src/replay_fields.c.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imp.h"
#include "replay.h"
#ifdef IMP_ENCODER_STATS
#include "deflate.h"
#endif

#define MAX_FIELDS 16

/*=== MARK: - Calls from fields (Private) ===*/
static int put_strings(const char *a, const char *b, uint32_t *alen, uint32_t *blen) {
  return decode_strings(imp_input_ptr(), IMP_INPUT_BYTES, a, b, alen, blen);
}

/* Fills the configuration record: defaults, then fields 1..count from d[1..count]. */
static int32_t start_with(const double *d, int count) {
  imp_config *c = imp_config_ptr();
  uint32_t *whole[] = {&c->max_items, &c->max_queue, &c->queue_bytes, &c->batch_events,
                       &c->batch_bytes};
  double *real[] = {&c->batch_age_ms, &c->view_ratio, &c->view_ms, &c->large_area,
                    &c->large_ratio, &c->impression_ratio};
  imp_config_defaults();
  for (int i = 0; i < 5; i++) *whole[i] = to_uint32(d[1 + i]);
  for (int i = 0; i < 6; i++) *real[i] = d[6 + i];
  if (count >= 12) c->compress = to_uint32(d[12]);
  if (count >= 13) c->window_bits = to_uint32(d[13]);
  if (count >= 14) c->occlusion = to_uint32(d[14]);
  if (count >= 15) c->echo_ms = d[15];
  return imp_start();
}

/*=== MARK: - One call (Private) ===*/

/* Fields first..last of a line as numbers into d; 0 when one is not a number. */
static int numbers(char **f, double *d, int first, int last) {
  for (int i = first; i <= last; i++)
    if (!parse_number(f[i], &d[i])) return 0;
  return 1;
}
#define NUMS(first, last) \
  if (!numbers(f, d, (first), (last))) return 0

/* The element calls; 0 when the line is none of them, or malformed. */
static int run_element_line(char **f, int n, double *d, int32_t *status) {
  const char *cmd = f[0];
  uint32_t la = 0, lb = 0;
  if (strcmp(cmd, "elem") == 0 && n == 5) {
    NUMS(1, 2);
    if (!put_strings(f[3], f[4], &la, &lb)) return 0;
    *status = imp_element_add(d[1], la, lb, to_uint32(d[2]));
  } else if (strcmp(cmd, "unelem") == 0 && n == 3) {
    NUMS(1, 2);
    *status = imp_element_remove(d[1], to_uint32(d[2]));
  } else if (strcmp(cmd, "eobs") == 0 && n == 5) {
    NUMS(1, 4);
    *status = imp_element_observe(d[1], to_uint32(d[2]), d[3], d[4]);
  } else if (strcmp(cmd, "cover") == 0 && n == 4) {
    NUMS(1, 3);
    *status = imp_element_cover(d[1], to_uint32(d[2]), to_int32(d[3]));
  } else if (strcmp(cmd, "act") == 0 && n == 4) {
    NUMS(1, 3);
    *status = imp_activate(d[1], to_uint32(d[2]), to_int32(d[3]));
  } else {
    return 0;
  }
  return 1;
}

/* Runs one trace line (NUL-terminated, no "\n"). Returns 1 and sets *status when a
** call was made, 0 when the line is malformed. */
static int run_line(char *line, int32_t *status, int *is_take) {
  char *f[MAX_FIELDS];
  double d[MAX_FIELDS];
  int n = 0;
  char *p = line;
  const char *cmd;
  uint32_t la = 0, lb = 0;

  f[n++] = p;
  for (; *p; p++) {
    if (*p == ' ') {
      *p = '\0';
      if (n == MAX_FIELDS) return 0;
      f[n++] = p + 1;
    }
  }
  cmd = f[0];
  *is_take = 0;

  if (strcmp(cmd, "start") == 0 && n >= 12 && n <= 16) {
    NUMS(1, n - 1);
    *status = start_with(d, n - 1);
  } else if (strcmp(cmd, "page") == 0 && n == 5) {
    NUMS(1, 2);
    if (!put_strings(f[3], f[4], &la, &lb)) return 0;
    *status = imp_page_begin(d[1], la, lb, to_uint32(d[2]));
  } else if (strcmp(cmd, "state") == 0 && n == 3) {
    NUMS(1, 2);
    *status = imp_page_state(d[1], to_int32(d[2]));
  } else if (strcmp(cmd, "focus") == 0 && n == 3) {
    NUMS(1, 2);
    *status = imp_page_focus(d[1], to_int32(d[2]));
  } else if (strcmp(cmd, "end") == 0 && n == 2) {
    NUMS(1, 1);
    *status = imp_page_end(d[1]);
  } else if (strcmp(cmd, "item") == 0 && n == 5) {
    NUMS(1, 2);
    if (!put_strings(f[3], f[4], &la, &lb)) return 0;
    *status = imp_item_register(d[1], la, lb, to_uint32(d[2]));
  } else if (strcmp(cmd, "tick") == 0 && n == 2) {
    NUMS(1, 1);
    *status = imp_tick(d[1]);
  } else if (strcmp(cmd, "take") == 0 && n == 3) {
    NUMS(1, 2);
    *status = imp_take_batch(d[1], to_int32(d[2]));
    *is_take = 1;
  } else if (strcmp(cmd, "drop") == 0 && n == 2) {
    NUMS(1, 1);
    *status = imp_report_dropped(to_uint32(d[1]));
  } else if (!run_element_line(f, n, d, status) && !replay_outbox_line(f, n, status)) {
    return 0;
  }
  return 1;
}
#undef NUMS

static int is_blank(const char *s) {
  for (; *s; s++)
    if (*s != ' ' && *s != '\t' && *s != '\r') return 0;
  return 1;
}

/*=== MARK: - Main (Private) ===*/

static char *read_all(FILE *in, size_t *len) {
  size_t cap = 1 << 16, n = 0, got;
  char *buf = malloc(cap + 1), *grown;
  if (!buf) return NULL;
  while ((got = fread(buf + n, 1, cap - n, in)) > 0) {
    n += got;
    if (n == cap) {
      cap *= 2;
      grown = realloc(buf, cap + 1);
      if (!grown) {
        free(buf);
        return NULL;
      }
      buf = grown;
    }
  }
  if (ferror(in)) {
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

int main(int argc, char **argv) {
  FILE *in = stdin;
  char *text, *line, *next;
  size_t len = 0;
  unsigned long lineno = 0;

  if (argc > 2) {
    fprintf(stderr, "usage: %s [trace-file]   (reads stdin without a file)\n", argv[0]);
    return 2;
  }
  if (argc == 2 && strcmp(argv[1], "-") != 0) {
    in = fopen(argv[1], "rb");
    if (!in) {
      perror(argv[1]);
      return 2;
    }
  }
  text = read_all(in, &len);
  if (in != stdin) fclose(in);
  if (!text) {
    fprintf(stderr, "replay: cannot read the trace\n");
    return 2;
  }

  for (line = text; line < text + len; line = next) {
    char *nl = memchr(line, '\n', (size_t)(text + len - line));
    int32_t status = 0;
    int is_take = 0;
    next = nl ? nl + 1 : text + len;
    if (nl) *nl = '\0';
    lineno++;
    if (strlen(line) != (size_t)((nl ? nl : text + len) - line)) {
      printf("! %lu PARSE\n", lineno); /* a NUL byte inside the line */
      continue;
    }
    if (line[0] == '#' || is_blank(line)) continue;
    if (!run_line(line, &status, &is_take)) {
      printf("! %lu PARSE\n", lineno);
      continue;
    }
    if (status < 0) {
      imp_status_name(status);
      printf("! %lu %s\n", lineno, (const char *)imp_text_ptr());
    } else if (is_take && status == IMP_OK) {
      const imp_result *r = imp_result_ptr();
      fwrite(imp_output_ptr(), 1, r->batch_bytes, stdout);
      putchar('\n');
      if (r->wire_bytes)
        printf("~ gzip %u %08x\n", r->wire_bytes, fnv1a(imp_wire_ptr(), r->wire_bytes));
    }
  }
  free(text);
#ifdef IMP_ENCODER_STATS
  fprintf(stderr, "encoder: %llu calls, %llu bytes in, %llu bytes out\n",
          (unsigned long long)imp_encoder_counts.calls, (unsigned long long)imp_encoder_counts.bytes_in,
          (unsigned long long)imp_encoder_counts.bytes_out);
#endif
  return fflush(stdout) == 0 ? 0 : 2;
}
