/*
** unity.c: the whole core (the outbox included) as one translation unit (as Lua's
** onelua.c), for the .wasm build and the benchmark. The compiler then sees every call
** site and inlines and drops more than link-time optimisation does. Native test builds
** compile the files separately, so the module boundaries stay honest. IMP_UNITY keeps
** the functions the encoder's two files share static here (src/deflate_internal.h).
*/
#define IMP_UNITY 1
#include "api.c"
#include "config.c"
#include "registry.c"
#include "ids.c"
#include "seen.c"
#include "element.c"
#include "visibility.c"
#include "queue.c"
#include "json.c"
#include "deflate_codes.c"
#include "deflate.c"
#include "outbox.c"
#include "outbox_cut.c"
#include "outbox_send.c"
#include "outbox_outcome.c"
#include "outbox_adopt.c"
#include "outbox_retry.c"
#include "outbox_record.c"
#include "outbox_api.c"
