/*
** unity.c: the whole core (the outbox included) as one translation unit, for the .wasm build only (as
** Lua's onelua.c). The compiler then sees every call site and inlines and drops
** more than link-time optimisation does (about 30 B gzip of the 4 KiB budget).
** Native builds compile the files separately, so the module boundaries stay honest.
*/
#include "api.c"
#include "config.c"
#include "registry.c"
#include "ids.c"
#include "seen.c"
#include "element.c"
#include "visibility.c"
#include "queue.c"
#include "json.c"
#include "deflate.c"
#include "outbox.c"
#include "outbox_send.c"
#include "outbox_outcome.c"
#include "outbox_adopt.c"
#include "outbox_retry.c"
#include "outbox_record.c"
#include "outbox_api.c"
