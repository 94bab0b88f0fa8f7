/*
** outbox_retry.c: the retry decision for a collector's answer, and the backoff.
**
** A 2xx is delivered. 400, 401, 403, 410, 413 and 422 mean the batch will never be
** accepted (413 first makes the outbox split a batch of several events: only a
** single event it cannot cut further is lost). Everything else is retried: 408,
** 429, 5xx, network errors and timeouts (status 0), and unexpected answers such as
** 404 or a redirect, which are a collector fault; a batch's age (max_age_ms) bounds them.
** The delay after the n-th consecutive failure is base * 2^(n-1), capped, times a
** factor in [0.8, 1.2) drawn from the jitter input, and never above the cap.
*/
#include "outbox_internal.h"

int imp_ob_classify(int32_t status) {
  if (status >= 200 && status < 300) return OB_OK;
  switch (status) {
  case 400: case 401: case 403: case 410: case 413: case 422: return OB_NEVER;
  default: return OB_RETRY;
  }
}

double imp_ob_backoff(uint32_t failures, double jitter, const imp_outbox_config *cfg) {
  double delay = cfg->backoff_base_ms;
  for (uint32_t i = 1; i < failures && delay < cfg->backoff_max_ms; i++) delay *= 2.0;
  if (delay > cfg->backoff_max_ms) delay = cfg->backoff_max_ms;
  delay *= 0.8 + 0.4 * jitter;
  return delay > cfg->backoff_max_ms ? cfg->backoff_max_ms : delay;
}
