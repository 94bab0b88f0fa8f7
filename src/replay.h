/*
** replay.h: what the two files of the replay tool share (src/replay.c reads the
** trace and runs the tracking calls; src/replay_outbox.c runs the delivery calls).
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
/* Runs one delivery line (fields f[0..n)); 0 when it is not one or is malformed. */
int replay_outbox_line(char **f, int n, int32_t *status);

#endif /* IMP_REPLAY_H */
