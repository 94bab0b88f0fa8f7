/*
** unity.c: the whole core (the outbox included) as one translation unit (as Lua's
** onelua.c), for the .wasm build and the benchmark. The compiler then sees every call
** site and inlines and drops more than link-time optimisation does. The shipped .wasm
** builds it with IMP_HOT_APART, -Oz, and the observation path (unity_hot.c) apart,
** -O2. Native test builds compile the files separately, so the module boundaries stay
** honest.
*/
#ifndef IMP_HOT_APART /* the shipped .wasm builds the hot path apart, -O2 */
#include "unity_hot.c"
#endif
#include "config.c"
#include "registry.c"
#include "ids.c"
#include "seen.c"
#include "deflate.c"
#include "outbox.c"
#include "outbox_send.c"
#include "outbox_outcome.c"
#include "outbox_adopt.c"
#include "outbox_retry.c"
#include "outbox_record.c"
#include "outbox_api.c"
