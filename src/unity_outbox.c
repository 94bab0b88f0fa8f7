/*
** unity_outbox.c: the core and the outbox as one translation unit, for
** `make wasm-outbox` only (build/imp-outbox.wasm). The shipped js/imp.wasm is built
** from unity.c without the outbox until the glue calls it; this build measures what
** the outbox will cost the module, against its own budget.
*/
#include "unity.c"
#include "outbox.c"
#include "outbox_send.c"
#include "outbox_outcome.c"
#include "outbox_adopt.c"
#include "outbox_retry.c"
#include "outbox_record.c"
#include "outbox_api.c"
