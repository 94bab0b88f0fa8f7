/*
** replay.h: what the files of the replay tool share (src/replay.c reads the trace
** and runs the tracking calls, src/replay_fields.c decodes its fields,
** src/replay_outbox.c runs the delivery calls, src/replay_storage.c simulates
** localStorage and Web Locks for them).
*/
#ifndef IMP_REPLAY_H
#define IMP_REPLAY_H

#include <stddef.h>
#include <stdint.h>

int parse_number(const char *field, double *out);
uint32_t to_uint32(double v);
int32_t to_int32(double v);
/* FNV-1a, 32 bits: the fingerprint of a gzip body in the output. */
uint32_t fnv1a(const uint8_t *p, uint32_t n);
int decode_string(const char *field, uint8_t *out, size_t cap, size_t *len);
/* Decodes a and then b (NULL: none) one after the other into buf, as far as its cap
** bytes hold them, with their true lengths; 0 when one is malformed. */
int decode_strings(uint8_t *buf, size_t cap, const char *a, const char *b, uint32_t *alen,
                   uint32_t *blen);
/* The simulated localStorage and Web Locks (src/replay_storage.c). */
void storage_put(const char *key, const char *value, size_t len);
void storage_remove(const char *key);
void storage_clear(void);
/* Prints every record: "$ <key> <field line>". */
void storage_show(void);
/* Marks tab as holding (alive) or not its Web Lock; 0 when the name is too long. */
int storage_set_live(const char *tab, int alive);
/* The `put` line: writes a record from a percent-encoded value; 0 when malformed. */
int storage_put_line(const char *key, const char *value);
/* imp_outbox_found on the record in the io buffer; prints the verdict, and removes
** the record when the outbox says to. */
int32_t storage_found(double t, uint32_t key_len, uint32_t value_len);
/* Answers a SCAN: live tabs, then every record in key order, then scan_done. */
int32_t storage_scan(double t);
/* Runs one delivery line (fields f[0..n)); 0 when it is not one or is malformed. */
int replay_outbox_line(char **f, int n, int32_t *status);

#endif /* IMP_REPLAY_H */
